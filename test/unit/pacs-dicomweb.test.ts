/**
 * The PACS room over DICOMweb against a real Orthanc (pacs-orthanc.ts): CR instances made by
 * pydicom and stored with dcmtk's storescu are searched (QIDO-RS), retrieved into a project
 * (WADO-RS, through the DICOM import, nothing fetched twice), and a reviewed image's SEG is sent
 * back (STOW-RS), read back over Orthanc's REST API and checked by pydicom to reference the source
 * SOP Instance UID; sending again does not duplicate it. Bad input: an unreachable server and wrong
 * credentials give errors naming the server; secrets never reach the project database.
 */
import fs from 'node:fs';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { ApiError } from '../../src/shared/contract';
import { pacsRetrieveResultSchema, pacsSendResultSchema } from '../../src/shared/pacs-schemas';
import { createService, type Service } from '../../src/core/service';
import { addCorrection } from '../../src/core/project/masks';
import { setReview } from '../../src/core/project/images';
import { encodeGray8 } from '../../src/core/project/mask-png';
import { gradient, python, tempDir, writeDicom } from './dicom-fixtures';
import { dicomwebSession, PacsCancelledError } from '../../src/core/pacs/dicomweb';
import { retrieveFolder, retrieveIntoProject } from '../../src/core/pacs/retrieve';
import { freePort, orthancAvailable, startOrthanc, type Orthanc } from './pacs-orthanc';

const STUDY = '1.2.826.0.1.3680043.8.498.100';
const SERIES_A = `${STUDY}.1`;
const SERIES_B = `${STUDY}.2`;
const OTHER_STUDY = '1.2.826.0.1.3680043.8.498.200';
const ROWS = 24;
const COLUMNS = 32;

function crSpecs() {
  const image = (
    name: string,
    sop: string,
    study: string,
    series: string,
    tags: Record<string, unknown>,
  ) => ({
    name,
    rows: ROWS,
    columns: COLUMNS,
    values: gradient(ROWS, COLUMNS, 4095, sop.length),
    bitsAllocated: 16 as const,
    bitsStored: 12,
    sopInstance: sop,
    study,
    series,
    tags,
  });
  const patient = {
    PatientID: 'PAT-1',
    PatientName: 'Doe^Jane',
    StudyDate: '20240315',
    AccessionNumber: 'ACC-1',
    BodyPartExamined: 'CHEST',
  };
  return [
    image('a1.dcm', `${SERIES_A}.1`, STUDY, SERIES_A, patient),
    image('a2.dcm', `${SERIES_A}.2`, STUDY, SERIES_A, patient),
    image('b1.dcm', `${SERIES_B}.1`, STUDY, SERIES_B, { ...patient, BodyPartExamined: 'ABDOMEN' }),
    image('c1.dcm', `${OTHER_STUDY}.1.1`, OTHER_STUDY, `${OTHER_STUDY}.1`, {
      PatientID: 'PAT-2',
      PatientName: 'Roe^John',
      StudyDate: '20230101',
      AccessionNumber: 'ACC-2',
      BodyPartExamined: 'CHEST',
    }),
  ];
}

async function rejection(promise: Promise<unknown>): Promise<ApiError> {
  try {
    await promise;
  } catch (error) {
    return error as ApiError;
  }
  throw new Error('expected a rejection');
}

describe.skipIf(!orthancAvailable())('PACS over DICOMweb against Orthanc', () => {
  let orthanc: Orthanc;
  let service: Service;
  let projectDir: string;

  beforeAll(async () => {
    orthanc = await startOrthanc();
    const files = writeDicom(tempDir('qataseg-pacs-src-'), crSpecs());
    orthanc.store(files);
    projectDir = tempDir('qataseg-pacs-project-');
    service = createService({ transport: 'http', projectDir });
    await service.invoke('pacs.add', { name: 'orthanc', kind: 'dicomweb', url: orthanc.dicomweb });
  }, 60_000);

  afterAll(async () => {
    service?.close();
    await orthanc?.stop();
  });

  it('echo probes QIDO-RS and lists the connection without secrets', async () => {
    const echo = await service.invoke('pacs.echo', { name: 'orthanc' });
    expect(echo.ok).toBe(true);
    const list = await service.invoke('pacs.list');
    expect(list.map((entry) => entry.name)).toEqual(['orthanc']);
    expect(list[0]).toMatchObject({ kind: 'dicomweb', url: orthanc.dicomweb, hasSecret: false });
  });

  it('searches by patient, date range, modality, accession and body part, paged', async () => {
    const byPatient = await service.invoke('pacs.search', { name: 'orthanc', patientId: 'PAT-1' });
    expect(byPatient.studies.map((study) => study.studyInstanceUid)).toEqual([STUDY]);
    const study = byPatient.studies[0];
    expect(study.patientName).toBe('Doe^Jane');
    expect(study.instances).toBe(3);
    expect(study.series.map((series) => [series.seriesInstanceUid, series.instances])).toEqual([
      [SERIES_A, 2],
      [SERIES_B, 1],
    ]);
    const byDate = await service.invoke('pacs.search', {
      name: 'orthanc',
      studyDateFrom: '2023-01-01',
      studyDateTo: '2023-12-31',
    });
    expect(byDate.studies.map((entry) => entry.patientId)).toEqual(['PAT-2']);
    const byAccession = await service.invoke('pacs.search', {
      name: 'orthanc',
      accessionNumber: 'ACC-2',
    });
    expect(byAccession.studies.map((entry) => entry.studyInstanceUid)).toEqual([OTHER_STUDY]);
    const byModality = await service.invoke('pacs.search', { name: 'orthanc', modality: 'CR' });
    expect(byModality.studies).toHaveLength(2);
    const byBodyPart = await service.invoke('pacs.search', {
      name: 'orthanc',
      patientId: 'PAT-1',
      bodyPart: 'abdomen',
    });
    expect(byBodyPart.studies[0].series.map((series) => series.seriesInstanceUid)).toEqual([
      SERIES_B,
    ]);
    const first = await service.invoke('pacs.search', { name: 'orthanc', limit: 1 });
    const second = await service.invoke('pacs.search', { name: 'orthanc', limit: 1, offset: 1 });
    expect(first.more).toBe(true);
    expect(second.more).toBe(false);
    expect(
      new Set([...first.studies, ...second.studies].map((entry) => entry.studyInstanceUid)),
    ).toEqual(new Set([STUDY, OTHER_STUDY]));
  });

  it('retrieves a series, then the study without fetching what the project holds', async () => {
    const seriesJob = await service.invoke('pacs.retrieve', {
      name: 'orthanc',
      studyInstanceUid: STUDY,
      seriesInstanceUid: SERIES_A,
    });
    const series = pacsRetrieveResultSchema.parse(await service.jobs.wait(seriesJob.id));
    expect(series).toMatchObject({ listed: 2, fetched: 2, alreadyHeld: 0, failed: [] });
    expect(series.import?.refresh.added).toBe(2);
    const studyJob = await service.invoke('pacs.retrieve', {
      name: 'orthanc',
      studyInstanceUid: STUDY,
    });
    const study = pacsRetrieveResultSchema.parse(await service.jobs.wait(studyJob.id));
    expect(study).toMatchObject({ listed: 3, fetched: 1, alreadyHeld: 2, failed: [] });
    expect(study.import?.refresh).toMatchObject({ added: 1, unchanged: 2 });
    const state = await service.invoke('project.state');
    expect(state.imageCount).toBe(3);
    // The instances are the server's own bytes, as Orthanc serves them over its REST API.
    const [orthancId] = await orthanc.restPost<string[]>('/tools/find', {
      Level: 'Instance',
      Query: { SOPInstanceUID: `${SERIES_B}.1` },
    });
    const original = await orthanc.restBytes(`/instances/${orthancId}/file`);
    const written = fs.readFileSync(path.join(study.folder, STUDY, SERIES_B, `${SERIES_B}.1.dcm`));
    expect(written.equals(original)).toBe(true);
  }, 60_000);

  it('sends the SEG of a reviewed image by STOW-RS; Orthanc holds it once, referencing the source', async () => {
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
      const job = await service.invoke('pacs.send', { name: 'orthanc', source: 'label' });
      return pacsSendResultSchema.parse(await service.jobs.wait(job.id));
    };
    const first = await send();
    expect(first).toMatchObject({ stored: 1, failed: 0, skipped: 2 });
    const sent = first.instances.find((entry) => entry.status === 'stored');
    expect(sent?.referencedSopInstanceUid).toBe(`${SERIES_A}.1`);
    const second = await send();
    expect(second.instances.find((entry) => entry.status === 'stored')?.sopInstanceUid).toBe(
      sent?.sopInstanceUid,
    );
    const segs = await orthanc.restPost<string[]>('/tools/find', {
      Level: 'Instance',
      Query: { Modality: 'SEG' },
    });
    expect(segs).toHaveLength(1);
    const bytes = await orthanc.restBytes(`/instances/${segs[0]}/file`);
    const file = path.join(tempDir('qataseg-pacs-seg-'), 'seg.dcm');
    fs.writeFileSync(file, bytes);
    const read = JSON.parse(
      python(
        `import sys, json, pydicom
ds = pydicom.dcmread(sys.argv[1])
ref = ds.ReferencedSeriesSequence[0]
print(json.dumps({"sop": ds.SOPInstanceUID, "study": ds.StudyInstanceUID, "series": ref.SeriesInstanceUID,
  "refs": [item.ReferencedSOPInstanceUID for item in ref.ReferencedInstanceSequence],
  "frames": int(ds.NumberOfFrames), "ones": int(ds.pixel_array.sum())}))`,
        file,
      ),
    ) as {
      sop: string;
      study: string;
      series: string;
      refs: string[];
      frames: number;
      ones: number;
    };
    expect(read).toEqual({
      sop: sent?.sopInstanceUid,
      study: STUDY,
      series: SERIES_A,
      refs: [`${SERIES_A}.1`],
      frames: 1,
      ones: 8 * 15,
    });
  }, 60_000);

  it('a negative review sends an empty SEG as a new instance, not the old mask again', async () => {
    const store = service.project();
    const image = store.db
      .prepare(
        `SELECT i.id FROM images i JOIN dicom_images d ON d.image_id = i.id WHERE d.sop_instance_uid = ?`,
      )
      .get(`${SERIES_A}.1`) as { id: number };
    setReview(store.db, image.id, { state: 'negative' });
    const job = await service.invoke('pacs.send', { name: 'orthanc', source: 'label' });
    const result = pacsSendResultSchema.parse(await service.jobs.wait(job.id));
    const sent = result.instances.find((entry) => entry.imageId === image.id);
    expect(sent?.status).toBe('stored');
    const found = await orthanc.restPost<string[]>('/tools/find', {
      Level: 'Instance',
      Query: { SOPInstanceUID: sent?.sopInstanceUid },
    });
    expect(found).toHaveLength(1);
    const file = path.join(tempDir('qataseg-pacs-seg-'), 'negative.dcm');
    fs.writeFileSync(file, await orthanc.restBytes(`/instances/${found[0]}/file`));
    const ones = python(
      'import sys, pydicom; print(int(pydicom.dcmread(sys.argv[1]).pixel_array.sum()))',
      file,
    );
    expect(Number(ones)).toBe(0);
    const segs = await orthanc.restPost<string[]>('/tools/find', {
      Level: 'Instance',
      Query: { Modality: 'SEG' },
    });
    expect(segs).toHaveLength(2);
  }, 60_000);

  it('an unreachable server: echo says so and search fails naming the server', async () => {
    const port = await freePort();
    await service.invoke('pacs.add', {
      name: 'nowhere',
      kind: 'dicomweb',
      url: `http://127.0.0.1:${port}/dicom-web`,
    });
    const echo = await service.invoke('pacs.echo', { name: 'nowhere' });
    expect(echo.ok).toBe(false);
    expect(echo.checks[0].message).toMatch(/PACS nowhere .*could not be reached/);
    const error = await rejection(service.invoke('pacs.search', { name: 'nowhere' }));
    expect(error).toBeInstanceOf(ApiError);
    expect(error.code).toBe('bad-request');
    expect(error.message).toContain(`PACS nowhere (http://127.0.0.1:${port}/dicom-web)`);
    const unknown = await rejection(service.invoke('pacs.search', { name: 'absent' }));
    expect(unknown.code).toBe('not-found');
  });

  it('wrong credentials fail naming the server; the secret stays out of the project database', async () => {
    const guarded = await startOrthanc({ withPassword: true });
    try {
      await service.invoke('pacs.add', {
        name: 'guarded',
        kind: 'dicomweb',
        url: guarded.dicomweb,
        auth: 'basic',
        username: guarded.user,
        secret: 'not-the-password',
      });
      const error = await rejection(service.invoke('pacs.search', { name: 'guarded' }));
      expect(error.message).toMatch(/PACS guarded .*\(HTTP 401\): wrong or missing credentials/);
      expect(error.message).not.toContain('not-the-password');
      await service.invoke('pacs.add', {
        name: 'guarded',
        kind: 'dicomweb',
        url: guarded.dicomweb,
        auth: 'basic',
        username: guarded.user,
        secret: guarded.password,
      });
      const echo = await service.invoke('pacs.echo', { name: 'guarded' });
      expect(echo.ok).toBe(true);
      const listed = (await service.invoke('pacs.list')).find((entry) => entry.name === 'guarded');
      expect(listed).toMatchObject({ auth: 'basic', username: guarded.user, hasSecret: true });
      expect(JSON.stringify(listed)).not.toContain(guarded.password);
      const secretFile = path.join(projectDir, '.secrets', 'guarded');
      expect(fs.statSync(secretFile).mode & 0o777).toBe(0o600);
      service.project().db.pragma('wal_checkpoint(TRUNCATE)');
      for (const name of fs
        .readdirSync(projectDir)
        .filter((entry) => entry.startsWith('project.sqlite')))
        expect(fs.readFileSync(path.join(projectDir, name)).includes(guarded.password)).toBe(false);
    } finally {
      await guarded.stop();
    }
  }, 60_000);
});

describe.skipIf(!orthancAvailable())('PACS retrieve cancel and resume', () => {
  it('a cancelled retrieve leaves only whole files, and the next run fetches only the rest', async () => {
    const orthanc = await startOrthanc();
    const projectDir = tempDir('qataseg-pacs-resume-');
    const service = createService({ transport: 'http', projectDir });
    try {
      const study = '1.2.826.0.1.3680043.8.498.400';
      const count = 12;
      orthanc.store(
        writeDicom(
          tempDir('qataseg-pacs-resume-src-'),
          Array.from({ length: count }, (_, n) => ({
            name: `r${n}.dcm`,
            rows: 16,
            columns: 16,
            values: gradient(16, 16, 255, n),
            sopInstance: `${study}.1.${n + 1}`,
            study,
            series: `${study}.1`,
          })),
        ),
      );
      const store = service.project();
      await service.invoke('pacs.add', {
        name: 'orthanc',
        kind: 'dicomweb',
        url: orthanc.dicomweb,
      });
      const connection = (await service.invoke('pacs.list'))[0];
      const controller = new AbortController();
      const reporter = {
        signal: controller.signal,
        // Cancel as soon as the first instance is written.
        progress: (update: { done?: number }) => {
          if ((update.done ?? 0) >= 1) controller.abort();
        },
      };
      await expect(
        retrieveIntoProject(
          store,
          dicomwebSession(connection, null),
          { name: 'orthanc', studyInstanceUid: study },
          reporter,
        ),
      ).rejects.toBeInstanceOf(PacsCancelledError);
      const folder = path.join(retrieveFolder(store, 'orthanc'), study, `${study}.1`);
      const written = fs.readdirSync(folder);
      expect(written.every((name) => name.endsWith('.dcm'))).toBe(true);
      expect(written.length).toBeGreaterThan(0);
      expect(written.length).toBeLessThan(count);
      // Nothing was imported by the cancelled run.
      expect((await service.invoke('project.state')).imageCount).toBe(0);

      const job = await service.invoke('pacs.retrieve', {
        name: 'orthanc',
        studyInstanceUid: study,
      });
      const result = pacsRetrieveResultSchema.parse(await service.jobs.wait(job.id));
      expect(result).toMatchObject({
        listed: count,
        alreadyHeld: written.length,
        fetched: count - written.length,
      });
      expect((await service.invoke('project.state')).imageCount).toBe(count);
    } finally {
      service.close();
      await orthanc.stop();
    }
  }, 60_000);
});
