/**
 * The PACS room over DIMSE (dcmjs-dimse) against a real Orthanc (pacs-orthanc.ts), with dcmtk as
 * the independent client: C-ECHO beside echoscu; C-FIND search by patient, dates, modality,
 * accession and body part, paged; C-GET retrieve (whole study; then instance level for what the
 * project lacks, nothing fetched twice) and C-MOVE into the store SCP we open on our port (Orthanc
 * is configured to know it), each through the DICOM import; a study of non-image objects; C-STORE
 * of a reviewed image's SEG, found in Orthanc (REST and dcmtk's findscu) once after two sends,
 * referencing its source. Bad input: unreachable host, a wrong called AE title (association
 * rejected), each naming the server, the connection settings unchanged.
 */
import { execFileSync, spawnSync } from 'node:child_process';
import fs from 'node:fs';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { ApiError } from '../../src/shared/contract';
import { pacsRetrieveResultSchema, pacsSendResultSchema } from '../../src/shared/pacs-schemas';
import { createService, type Service } from '../../src/core/service';
import { addCorrection } from '../../src/core/project/masks';
import { encodeGray8 } from '../../src/core/project/mask-png';
import { retrieveFolder } from '../../src/core/pacs/retrieve';
import { startStoreScp } from '../../src/core/pacs/store-scp';
import { gradient, python, tempDir, writeDicom } from './dicom-fixtures';
import { freePort, orthancAvailable, startOrthanc, type Orthanc } from './pacs-orthanc';

const STUDY = '1.2.826.0.1.3680043.8.498.500';
const SERIES_A = `${STUDY}.1`;
const SERIES_B = `${STUDY}.2`;
const OTHER_STUDY = '1.2.826.0.1.3680043.8.498.600';
const SEG_STUDY = '1.2.826.0.1.3680043.8.498.700';
const ROWS = 24;
const COLUMNS = 32;
const OUR_AET = 'QATASEG';

function image(sop: string, study: string, series: string, tags: Record<string, unknown>) {
  return {
    name: `${sop}.dcm`,
    rows: ROWS,
    columns: COLUMNS,
    values: gradient(ROWS, COLUMNS, 4095, sop.length),
    bitsAllocated: 16 as const,
    bitsStored: 12,
    sopInstance: sop,
    study,
    series,
    tags,
  };
}

async function rejection(promise: Promise<unknown>): Promise<ApiError> {
  try {
    await promise;
  } catch (error) {
    return error as ApiError;
  }
  throw new Error('expected a rejection');
}

describe.skipIf(!orthancAvailable())('PACS over DIMSE against Orthanc', () => {
  let orthanc: Orthanc;
  let service: Service;
  let projectDir: string;
  let ourPort: number;
  let sourceFiles: string[];

  beforeAll(async () => {
    ourPort = await freePort();
    orthanc = await startOrthanc({
      checkCalledAet: true,
      // Orthanc must know where our AE title listens to C-MOVE to it.
      modalities: { qataseg: [OUR_AET, '127.0.0.1', ourPort] },
    });
    const patient = {
      PatientID: 'DIM-1',
      PatientName: 'Doe^Jane',
      StudyDate: '20240315',
      AccessionNumber: 'ACC-D1',
      BodyPartExamined: 'CHEST',
    };
    sourceFiles = writeDicom(tempDir('qataseg-pacs-dimse-src-'), [
      image(`${SERIES_A}.1`, STUDY, SERIES_A, patient),
      image(`${SERIES_A}.2`, STUDY, SERIES_A, patient),
      image(`${SERIES_B}.1`, STUDY, SERIES_B, { ...patient, BodyPartExamined: 'ABDOMEN' }),
      image(`${OTHER_STUDY}.1.1`, OTHER_STUDY, `${OTHER_STUDY}.1`, {
        PatientID: 'DIM-2',
        PatientName: 'Roe^John',
        StudyDate: '20230101',
        AccessionNumber: 'ACC-D2',
        BodyPartExamined: 'CHEST',
      }),
      // A study of a SEG only: nothing in it is an image to import.
      {
        kind: 'seg' as const,
        name: 'seg-only.dcm',
        rows: ROWS,
        columns: COLUMNS,
        values: new Uint8Array(ROWS * COLUMNS).fill(1),
        references: ['1.2.826.0.1.3680043.8.498.799.1'],
        study: SEG_STUDY,
        series: `${SEG_STUDY}.1`,
      },
    ]);
    orthanc.store(sourceFiles);
    projectDir = tempDir('qataseg-pacs-dimse-');
    service = createService({ transport: 'http', projectDir });
    await service.invoke('pacs.add', {
      name: 'orthanc-dimse',
      kind: 'dimse',
      host: '127.0.0.1',
      port: orthanc.dicomPort,
      aet: orthanc.aet,
      ourAet: OUR_AET,
      ourPort,
    });
  }, 60_000);

  afterAll(async () => {
    service?.close();
    await orthanc?.stop();
  });

  it('C-ECHO succeeds where dcmtk echoscu does, and fails naming an unreachable server', async () => {
    // dcmtk's own C-ECHO to the same AE: the server is up and accepts our AE title.
    execFileSync('echoscu', [
      '-aet',
      OUR_AET,
      '-aec',
      orthanc.aet,
      '127.0.0.1',
      String(orthanc.dicomPort),
    ]);
    const echo = await service.invoke('pacs.echo', { name: 'orthanc-dimse' });
    expect(echo.ok).toBe(true);
    expect(echo.checks[0]).toMatchObject({ what: 'C-ECHO', ok: true });

    const port = await freePort();
    await service.invoke('pacs.add', {
      name: 'dimse-gone',
      kind: 'dimse',
      host: '127.0.0.1',
      port,
      aet: 'NOBODY',
      ourAet: OUR_AET,
      ourPort: 11112,
    });
    const failed = await service.invoke('pacs.echo', { name: 'dimse-gone' });
    expect(failed.ok).toBe(false);
    expect(failed.checks[0].message).toContain(`PACS dimse-gone (NOBODY@127.0.0.1:${port})`);
    expect(failed.checks[0].message).toMatch(/could not be reached/);
    const search = await rejection(service.invoke('pacs.search', { name: 'dimse-gone' }));
    expect(search.code).toBe('bad-request');
    expect(search.message).toMatch(
      /PACS dimse-gone .*C-FIND of studies failed: the server could not be reached/,
    );
  }, 60_000);

  it('C-FIND searches by patient, date range, modality, accession and body part, paged', async () => {
    const search = (query: Record<string, unknown>) =>
      service.invoke('pacs.search', { name: 'orthanc-dimse', ...query });
    const byPatient = await search({ patientId: 'DIM-1' });
    expect(byPatient.studies.map((study) => study.studyInstanceUid)).toEqual([STUDY]);
    const study = byPatient.studies[0];
    expect(study).toMatchObject({
      patientName: 'Doe^Jane',
      studyDate: '20240315',
      accessionNumber: 'ACC-D1',
      instances: 3,
    });
    expect(study.modalities).toEqual(['CR']);
    expect(study.series.map((series) => [series.seriesInstanceUid, series.instances])).toEqual([
      [SERIES_A, 2],
      [SERIES_B, 1],
    ]);
    const byDate = await search({ studyDateFrom: '2023-01-01', studyDateTo: '2023-12-31' });
    expect(byDate.studies.map((entry) => entry.patientId)).toEqual(['DIM-2']);
    const byAccession = await search({ accessionNumber: 'ACC-D2' });
    expect(byAccession.studies.map((entry) => entry.studyInstanceUid)).toEqual([OTHER_STUDY]);
    const byModality = await search({ modality: 'CR' });
    expect(new Set(byModality.studies.map((entry) => entry.studyInstanceUid))).toEqual(
      new Set([STUDY, OTHER_STUDY]),
    );
    const byName = await search({ patientName: 'Roe*' });
    expect(byName.studies.map((entry) => entry.patientId)).toEqual(['DIM-2']);
    const byBodyPart = await search({ patientId: 'DIM-1', bodyPart: 'abdomen' });
    expect(byBodyPart.studies[0].series.map((series) => series.seriesInstanceUid)).toEqual([
      SERIES_B,
    ]);
    const pages = [await search({ limit: 2 }), await search({ limit: 2, offset: 2 })];
    expect(pages.map((page) => [page.studies.length, page.more])).toEqual([
      [2, true],
      [1, false],
    ]);
    expect(
      new Set(pages.flatMap((page) => page.studies.map((entry) => entry.studyInstanceUid))),
    ).toEqual(new Set([STUDY, OTHER_STUDY, SEG_STUDY]));
  }, 60_000);

  it('C-GET retrieves what the project lacks at instance level, nothing twice, through the import', async () => {
    const retrieve = async (input: Record<string, unknown>) => {
      const job = await service.invoke('pacs.retrieve', {
        name: 'orthanc-dimse',
        ...input,
      } as never);
      return pacsRetrieveResultSchema.parse(await service.jobs.wait(job.id));
    };
    // One instance is there already, as an earlier (interrupted) run would have left it.
    const folder = retrieveFolder(service.project(), 'orthanc-dimse');
    const early = path.join(folder, STUDY, SERIES_A, `${SERIES_A}.2.dcm`);
    fs.mkdirSync(path.dirname(early), { recursive: true });
    fs.copyFileSync(sourceFiles[1], early);
    const study = await retrieve({ studyInstanceUid: STUDY });
    expect(study).toMatchObject({ listed: 3, fetched: 2, alreadyHeld: 1, failed: [] });
    expect(study.import?.refresh.added).toBe(3);
    // The bytes are Orthanc's own (the same as its REST API serves), under a meta header of ours.
    const [orthancId] = await orthanc.restPost<string[]>('/tools/find', {
      Level: 'Instance',
      Query: { SOPInstanceUID: `${SERIES_B}.1` },
    });
    const original = await orthanc.restBytes(`/instances/${orthancId}/file`);
    const written = path.join(folder, STUDY, SERIES_B, `${SERIES_B}.1.dcm`);
    const dump = (file: string) =>
      python(
        `import sys, pydicom
ds = pydicom.dcmread(sys.argv[1])
print(ds.SOPInstanceUID, ds.StudyInstanceUID, ds.PatientID, ds.pixel_array.sum())`,
        file,
      );
    const originalFile = path.join(tempDir('qataseg-pacs-dimse-orig-'), 'o.dcm');
    fs.writeFileSync(originalFile, original);
    expect(dump(written)).toBe(dump(originalFile));
    execFileSync('dcmftest', [written]);
    const again = await retrieve({ studyInstanceUid: STUDY });
    expect(again).toMatchObject({ listed: 3, fetched: 0, alreadyHeld: 3, failed: [] });
    expect(
      fs.readdirSync(path.join(folder, STUDY, SERIES_A)).filter((f) => f.endsWith('.part')),
    ).toEqual([]);
  }, 120_000);

  it('C-MOVE brings a study into the store SCP opened on our port, then the import', async () => {
    const job = await service.invoke('pacs.retrieve', {
      name: 'orthanc-dimse',
      studyInstanceUid: OTHER_STUDY,
      method: 'c-move',
    });
    const moved = pacsRetrieveResultSchema.parse(await service.jobs.wait(job.id));
    expect(moved).toMatchObject({ listed: 1, fetched: 1, alreadyHeld: 0, failed: [] });
    expect(moved.import?.refresh.added).toBe(1);
    const state = await service.invoke('project.state');
    expect(state.imageCount).toBe(4);
  }, 60_000);

  it('a study of non-image objects (a SEG) arrives and the import reports why nothing was added', async () => {
    const job = await service.invoke('pacs.retrieve', {
      name: 'orthanc-dimse',
      studyInstanceUid: SEG_STUDY,
    });
    const result = pacsRetrieveResultSchema.parse(await service.jobs.wait(job.id));
    expect(result).toMatchObject({ listed: 1, fetched: 1, failed: [] });
    expect(result.import?.refresh.added).toBe(0);
    // The SEG came whole (a SOP class the library does not propose for C-GET: we did) and the
    // import says what it is: a SEG referencing no image of the project.
    expect(result.import?.report.orphanMasks).toBe(1);
    expect(result.import?.report.warnings.map((entry) => entry.message).join('\n')).toMatch(
      /orphan DICOM SEG/,
    );
    expect((await service.invoke('project.state')).imageCount).toBe(4);
  }, 60_000);

  it('C-STORE sends the SEG of a reviewed image; Orthanc holds it once, referencing the source', async () => {
    const store = service.project();
    const image = store.db
      .prepare(
        `SELECT i.id FROM images i JOIN dicom_images d ON d.image_id = i.id WHERE d.sop_instance_uid = ?`,
      )
      .get(`${SERIES_A}.1`) as { id: number };
    const mask = new Uint8Array(ROWS * COLUMNS);
    for (let y = 4; y < 12; y++) for (let x = 5; x < 20; x++) mask[y * COLUMNS + x] = 255;
    addCorrection(store.db, image.id, {
      png: await encodeGray8(mask, COLUMNS, ROWS),
      width: COLUMNS,
      height: ROWS,
      foreground: 8 * 15,
      author: 'tester',
    });
    const send = async () => {
      const job = await service.invoke('pacs.send', { name: 'orthanc-dimse', source: 'label' });
      return pacsSendResultSchema.parse(await service.jobs.wait(job.id));
    };
    const first = await send();
    expect(first).toMatchObject({ stored: 1, failed: 0, skipped: 3 });
    const sent = first.instances.find((entry) => entry.status === 'stored');
    expect(sent?.referencedSopInstanceUid).toBe(`${SERIES_A}.1`);
    const second = await send();
    expect(second.instances.find((entry) => entry.status === 'stored')?.sopInstanceUid).toBe(
      sent?.sopInstanceUid,
    );
    // dcmtk's findscu sees the SEG in the source's study, once.
    const found = spawnSync(
      'findscu',
      [
        '-v',
        '-S',
        '-aet',
        OUR_AET,
        '-aec',
        orthanc.aet,
        '-k',
        'QueryRetrieveLevel=IMAGE',
        '-k',
        `StudyInstanceUID=${STUDY}`,
        '-k',
        'SOPInstanceUID',
        '-k',
        'Modality=SEG',
        '127.0.0.1',
        String(orthanc.dicomPort),
      ],
      { encoding: 'utf8' },
    );
    expect(found.status).toBe(0);
    const answers = `${found.stdout}${found.stderr}`;
    expect(answers.split(sent!.sopInstanceUid!).length - 1).toBe(1);
    const segs = await orthanc.restPost<string[]>('/tools/find', {
      Level: 'Instance',
      Query: { Modality: 'SEG', StudyInstanceUID: STUDY },
    });
    expect(segs).toHaveLength(1);
    const file = path.join(tempDir('qataseg-pacs-dimse-seg-'), 'seg.dcm');
    fs.writeFileSync(file, await orthanc.restBytes(`/instances/${segs[0]}/file`));
    const read = JSON.parse(
      python(
        `import sys, json, pydicom
ds = pydicom.dcmread(sys.argv[1])
ref = ds.ReferencedSeriesSequence[0]
print(json.dumps({"sop": ds.SOPInstanceUID, "refs": [item.ReferencedSOPInstanceUID for item in ref.ReferencedInstanceSequence], "ones": int(ds.pixel_array.sum())}))`,
        file,
      ),
    ) as { sop: string; refs: string[]; ones: number };
    expect(read).toEqual({ sop: sent?.sopInstanceUid, refs: [`${SERIES_A}.1`], ones: 8 * 15 });
  }, 60_000);

  it('a wrong called AE title: the association is rejected, naming the server; settings unchanged', async () => {
    await service.invoke('pacs.add', {
      name: 'wrong-aet',
      kind: 'dimse',
      host: '127.0.0.1',
      port: orthanc.dicomPort,
      aet: 'NOTORTHANC',
      ourAet: OUR_AET,
      ourPort,
    });
    const before = await service.invoke('pacs.list');
    const echo = await service.invoke('pacs.echo', { name: 'wrong-aet' });
    expect(echo.ok).toBe(false);
    expect(echo.checks[0].message).toMatch(
      /PACS wrong-aet \(NOTORTHANC@127\.0\.0\.1:\d+\).*rejected/,
    );
    const error = await rejection(
      service
        .invoke('pacs.retrieve', { name: 'wrong-aet', studyInstanceUid: STUDY })
        .then((job) => service.jobs.wait(job.id)),
    );
    expect(error.message).toMatch(
      /PACS wrong-aet .*C-FIND.*rejected \(called AE title not recognised\)/,
    );
    expect(await service.invoke('pacs.list')).toEqual(before);
  }, 60_000);

  it('a PACS that refuses the SEG: failed with its C-STORE status and comment', async () => {
    // Orthanc 1.10 answers success even when a filter drops an instance, so the refusing peer is
    // our own store SCP, whose every write fails (its folder is a file): it answers 0xA700.
    const blocked = path.join(tempDir('qataseg-pacs-dimse-blocked-'), 'not-a-folder');
    fs.writeFileSync(blocked, '');
    const port = await freePort();
    const scp = await startStoreScp({
      port,
      aet: 'REFUSING',
      allowed: () => true,
      sink: () => ({
        target: ({ sopInstanceUid }) => path.join(blocked, `${sopInstanceUid}.dcm`),
        stored: () => undefined,
      }),
    });
    try {
      await service.invoke('pacs.add', {
        name: 'refusing',
        kind: 'dimse',
        host: '127.0.0.1',
        port,
        aet: 'REFUSING',
        ourAet: OUR_AET,
        ourPort,
      });
      const job = await service.invoke('pacs.send', { name: 'refusing', source: 'label' });
      const result = pacsSendResultSchema.parse(await service.jobs.wait(job.id));
      expect(result).toMatchObject({ stored: 0, failed: 1, skipped: 3 });
      const failed = result.instances.find((entry) => entry.status === 'failed');
      expect(failed?.message).toMatch(/^refused \(status 0xa700: not written: E(EXIST|NOTDIR)\)$/);
      expect(failed?.referencedSopInstanceUid).toBe(`${SERIES_A}.1`);
    } finally {
      await scp.close();
    }
  }, 60_000);
});
