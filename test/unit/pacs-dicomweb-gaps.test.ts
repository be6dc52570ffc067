/**
 * The PACS room's harder cases against a real Orthanc (pacs-orthanc.ts): a PNG-sourced image is
 * sent as a Secondary Capture (checked by dciodvfy) and a SEG referencing it; a SEG the PACS
 * refuses (an Orthanc Lua ReceivedInstanceFilter rejecting Modality SEG) is reported as failed
 * with the reason and nothing else changes; a server over TLS is reached with the CA file of the
 * test's own CA (made with openssl) and refused with a clear TLS error without it; the body-part
 * filter across pages when there are more studies than a page.
 */
import { execFileSync } from 'node:child_process';
import fs from 'node:fs';
import path from 'node:path';
import { describe, expect, it } from 'vitest';
import { createService, type Service } from '../../src/core/service';
import { importDataset } from '../../src/core/dataset/import';
import { addCorrection } from '../../src/core/project/masks';
import { encodeGray8 } from '../../src/core/project/mask-png';
import {
  pacsRetrieveResultSchema,
  pacsSendResultSchema,
  type PacsSearchResult,
} from '../../src/shared/pacs-schemas';
import { gradient, python, tempDir, writeDicom } from './dicom-fixtures';
import { rectMask, writeGrayPng } from './project-fixtures';
import { orthancAvailable, startOrthanc, type Orthanc, type OrthancExtras } from './pacs-orthanc';

const ROWS = 24;
const COLUMNS = 32;

/** dciodvfy's errors (its warnings are advice about optional attributes). */
function dciodvfyErrors(file: string): string[] {
  let output: string;
  try {
    output = execFileSync('dciodvfy', [file], {
      encoding: 'utf8',
      stdio: ['ignore', 'pipe', 'pipe'],
    });
  } catch (error) {
    const failed = error as { stdout?: string; stderr?: string };
    output = `${failed.stdout ?? ''}${failed.stderr ?? ''}`;
  }
  return output.split('\n').filter((line) => /^Error/.test(line));
}

async function withOrthanc(
  extras: OrthancExtras,
  run: (orthanc: Orthanc, service: Service, projectDir: string) => Promise<void>,
): Promise<void> {
  const orthanc = await startOrthanc(extras);
  const projectDir = tempDir('qataseg-pacs-gaps-');
  const service = createService({ transport: 'http', projectDir });
  try {
    await run(orthanc, service, projectDir);
  } finally {
    service.close();
    await orthanc.stop();
  }
}

async function sendLabels(service: Service, name: string) {
  const job = await service.invoke('pacs.send', { name, source: 'label' });
  return pacsSendResultSchema.parse(await service.jobs.wait(job.id));
}

const instancesOf = (orthanc: Orthanc, query: Record<string, string>) =>
  orthanc.restPost<string[]>('/tools/find', { Level: 'Instance', Query: query });

describe.skipIf(!orthancAvailable())('PACS over DICOMweb: the harder cases', () => {
  it('a PNG-sourced image goes as a valid Secondary Capture and a SEG referencing it, once', async () => {
    await withOrthanc({}, async (orthanc, service) => {
      const root = tempDir('qataseg-pacs-png-');
      for (const i of [1, 2]) {
        const texture = new Uint8Array(ROWS * COLUMNS).map((_, p) => (p * 7 + i * 29) % 251);
        await writeGrayPng(path.join(root, 'Images', `covid_${i}.png`), texture, COLUMNS, ROWS);
        await writeGrayPng(
          path.join(root, 'Ground-truths', `mask_covid_${i}.png`),
          rectMask(COLUMNS, ROWS, 2, 3, 10 + i, 12),
          COLUMNS,
          ROWS,
        );
      }
      await importDataset(service.project(), { root });
      await service.invoke('pacs.add', {
        name: 'orthanc',
        kind: 'dicomweb',
        url: orthanc.dicomweb,
      });
      const first = await sendLabels(service, 'orthanc');
      expect(first).toMatchObject({ stored: 2, failed: 0, skipped: 0 });
      const captures = await instancesOf(orthanc, { Modality: 'OT' });
      expect(captures).toHaveLength(2);
      const segs = await instancesOf(orthanc, { Modality: 'SEG' });
      expect(segs).toHaveLength(2);

      const dir = tempDir('qataseg-pacs-png-read-');
      const sent = first.instances.find((entry) => entry.image === 'covid_1.png')!;
      const [captureId] = await instancesOf(orthanc, {
        SOPInstanceUID: sent.referencedSopInstanceUid!,
      });
      const captureFile = path.join(dir, 'sc.dcm');
      fs.writeFileSync(captureFile, await orthanc.restBytes(`/instances/${captureId}/file`));
      expect(dciodvfyErrors(captureFile)).toEqual([]);
      const [segId] = await instancesOf(orthanc, { SOPInstanceUID: sent.sopInstanceUid! });
      const segFile = path.join(dir, 'seg.dcm');
      fs.writeFileSync(segFile, await orthanc.restBytes(`/instances/${segId}/file`));
      const read = JSON.parse(
        python(
          `import sys, json, pydicom
sc = pydicom.dcmread(sys.argv[1]); seg = pydicom.dcmread(sys.argv[2])
ref = seg.ReferencedSeriesSequence[0]
print(json.dumps({"scClass": sc.SOPClassUID, "scRows": int(sc.Rows), "scPixel": int(sc.pixel_array[0][1]),
  "segStudy": seg.StudyInstanceUID == sc.StudyInstanceUID,
  "refSeries": ref.SeriesInstanceUID == sc.SeriesInstanceUID,
  "refs": [item.ReferencedSOPInstanceUID for item in ref.ReferencedInstanceSequence]}))`,
          captureFile,
          segFile,
        ),
      ) as Record<string, unknown>;
      expect(read).toEqual({
        scClass: '1.2.840.10008.5.1.4.1.1.7',
        scRows: ROWS,
        // The PNG's own pixel (x 1, y 0) of covid_1: (1 * 7 + 29) % 251.
        scPixel: 36,
        segStudy: true,
        refSeries: true,
        refs: [sent.referencedSopInstanceUid],
      });

      // Again: the same Secondary Capture and SEG instances, nothing added on the PACS.
      const second = await sendLabels(service, 'orthanc');
      expect(second.instances.map((entry) => entry.referencedSopInstanceUid)).toEqual(
        first.instances.map((entry) => entry.referencedSopInstanceUid),
      );
      expect(await instancesOf(orthanc, { Modality: 'OT' })).toHaveLength(2);
      expect(await instancesOf(orthanc, { Modality: 'SEG' })).toHaveLength(2);
    });
  }, 90_000);

  it('a SEG the PACS refuses is reported failed with the reason; nothing else changes', async () => {
    const lua = `function ReceivedInstanceFilter(dicom, origin, info)
  if dicom.Modality == 'SEG' then return false end
  return true
end
`;
    await withOrthanc({ lua }, async (orthanc, service) => {
      const study = '1.2.826.0.1.3680043.8.498.700';
      orthanc.store(
        writeDicom(tempDir('qataseg-pacs-refuse-src-'), [
          {
            name: 'cr.dcm',
            rows: ROWS,
            columns: COLUMNS,
            values: gradient(ROWS, COLUMNS, 4095),
            bitsAllocated: 16,
            bitsStored: 12,
            sopInstance: `${study}.1.1`,
            study,
            series: `${study}.1`,
          },
        ]),
      );
      await service.invoke('pacs.add', {
        name: 'orthanc',
        kind: 'dicomweb',
        url: orthanc.dicomweb,
      });
      const job = await service.invoke('pacs.retrieve', {
        name: 'orthanc',
        studyInstanceUid: study,
      });
      expect(pacsRetrieveResultSchema.parse(await service.jobs.wait(job.id)).fetched).toBe(1);
      const store = service.project();
      const image = store.db.prepare('SELECT id FROM images').get() as { id: number };
      addCorrection(store.db, image.id, {
        png: await encodeGray8(rectMask(COLUMNS, ROWS, 4, 4, 12, 12), COLUMNS, ROWS),
        width: COLUMNS,
        height: ROWS,
        foreground: 64,
        author: 'tester',
      });
      const connectionsBefore = await service.invoke('pacs.list');
      const revisionsBefore = store.db.prepare('SELECT COUNT(*) AS n FROM mask_revisions').get();
      const imageBefore = store.db.prepare('SELECT * FROM images').all();

      const result = await sendLabels(service, 'orthanc');
      expect(result).toMatchObject({ stored: 0, failed: 1, skipped: 0 });
      const [entry] = result.instances;
      expect(entry.status).toBe('failed');
      expect(entry.message).toMatch(/PACS orthanc \(http:\/\/127\.0\.0\.1:\d+\/dicom-web\)/);
      expect(entry.message).toContain('does not hold the instance: it refused it');
      expect(entry.referencedSopInstanceUid).toBe(`${study}.1.1`);

      expect(await instancesOf(orthanc, { Modality: 'SEG' })).toEqual([]);
      expect(await instancesOf(orthanc, { StudyInstanceUID: study })).toHaveLength(1);
      expect(await service.invoke('pacs.list')).toEqual(connectionsBefore);
      expect(store.db.prepare('SELECT COUNT(*) AS n FROM mask_revisions').get()).toEqual(
        revisionsBefore,
      );
      expect(store.db.prepare('SELECT * FROM images').all()).toEqual(imageBefore);
    });
  }, 90_000);

  it('TLS: the CA file makes the server trusted; without it the error says TLS', async () => {
    const dir = tempDir('qataseg-pacs-tls-');
    const ssl = (...args: string[]) => execFileSync('openssl', args, { cwd: dir, stdio: 'pipe' });
    ssl(
      'req',
      '-x509',
      '-newkey',
      'rsa:2048',
      '-nodes',
      '-days',
      '2',
      '-subj',
      '/CN=qataseg test CA',
      '-keyout',
      'ca.key',
      '-out',
      'ca.pem',
    );
    ssl(
      'req',
      '-newkey',
      'rsa:2048',
      '-nodes',
      '-subj',
      '/CN=127.0.0.1',
      '-keyout',
      'server.key',
      '-out',
      'server.csr',
    );
    fs.writeFileSync(path.join(dir, 'san.ext'), 'subjectAltName=IP:127.0.0.1\n');
    ssl(
      'x509',
      '-req',
      '-in',
      'server.csr',
      '-CA',
      'ca.pem',
      '-CAkey',
      'ca.key',
      '-CAcreateserial',
      '-days',
      '2',
      '-extfile',
      'san.ext',
      '-out',
      'server.pem',
    );
    const bundle = path.join(dir, 'orthanc.pem');
    fs.writeFileSync(
      bundle,
      Buffer.concat([
        fs.readFileSync(path.join(dir, 'server.key')),
        fs.readFileSync(path.join(dir, 'server.pem')),
      ]),
    );
    const ca = path.join(dir, 'ca.pem');
    await withOrthanc({ tls: { certificate: bundle } }, async (orthanc, service) => {
      expect(orthanc.dicomweb).toMatch(/^https:/);
      await service.invoke('pacs.add', {
        name: 'trusted',
        kind: 'dicomweb',
        url: orthanc.dicomweb,
        caFile: ca,
      });
      const echo = await service.invoke('pacs.echo', { name: 'trusted' });
      expect(echo.ok).toBe(true);
      const found = await service.invoke('pacs.search', { name: 'trusted' });
      expect(found.studies).toEqual([]);

      await service.invoke('pacs.add', {
        name: 'untrusted',
        kind: 'dicomweb',
        url: orthanc.dicomweb,
      });
      const refused = await service.invoke('pacs.echo', { name: 'untrusted' });
      expect(refused.ok).toBe(false);
      expect(refused.checks[0].message).toMatch(/PACS untrusted \(https:\/\/127\.0\.0\.1:\d+/);
      expect(refused.checks[0].message).toMatch(
        /TLS failure: the server's certificate is not trusted \(.+\): give the CA file/,
      );
      const searchError = await service.invoke('pacs.search', { name: 'untrusted' }).then(
        () => null,
        (error: Error) => error.message,
      );
      expect(searchError).toMatch(/PACS untrusted .*TLS failure/);
      // The connection stays as it was saved.
      const listed = (await service.invoke('pacs.list')).find(
        (entry) => entry.name === 'untrusted',
      );
      expect(listed).toMatchObject({ url: orthanc.dicomweb, caFile: null });
    });
  }, 90_000);

  it('the body-part filter across pages, with more studies than a page', async () => {
    await withOrthanc({}, async (orthanc, service) => {
      const specs = Array.from({ length: 7 }, (_, n) => {
        const study = `1.2.826.0.1.3680043.8.498.80${n}`;
        return {
          name: `s${n}.dcm`,
          rows: 16,
          columns: 16,
          values: gradient(16, 16, 255, n),
          sopInstance: `${study}.1.1`,
          study,
          series: `${study}.1`,
          tags: { PatientID: `P${n}`, BodyPartExamined: n % 3 === 0 ? 'ABDOMEN' : 'CHEST' },
        };
      });
      orthanc.store(writeDicom(tempDir('qataseg-pacs-pages-src-'), specs));
      await service.invoke('pacs.add', {
        name: 'orthanc',
        kind: 'dicomweb',
        url: orthanc.dicomweb,
      });
      const chest = specs.filter((_, n) => n % 3 !== 0).map((spec) => spec.study);
      const seen: string[] = [];
      let page: PacsSearchResult | null = null;
      let pages = 0;
      do {
        page = await service.invoke('pacs.search', {
          name: 'orthanc',
          bodyPart: 'chest',
          limit: 2,
          offset: page ? page.offset + page.limit : 0,
        });
        pages++;
        expect(page.studies.length).toBeLessThanOrEqual(2);
        for (const study of page.studies) {
          expect(study.series.map((series) => series.bodyPart)).toEqual(['CHEST']);
          seen.push(study.studyInstanceUid);
        }
      } while (page.more && pages < 10);
      expect(pages).toBe(4);
      expect(seen.sort()).toEqual([...chest].sort());
      const all = await service.invoke('pacs.search', { name: 'orthanc', limit: 3 });
      expect(all).toMatchObject({ offset: 0, limit: 3, more: true });
      expect(all.studies).toHaveLength(3);
    });
  }, 90_000);
});
