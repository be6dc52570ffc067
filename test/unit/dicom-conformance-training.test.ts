/**
 * Training and prediction read the conformance corpus too (issue 21): pydicom's single-frame
 * grayscale test images (every transfer syntax the corpus has, TIFF preambles, big endian) are
 * imported in the QaTa layout with a PNG mask each, and one short training and a prediction run
 * over them without skipping any.
 */
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { createService, type Service } from '../../src/core/service';
import type { Job } from '../../src/shared/contract';
import { probeDicomForImport } from '../../src/core/formats/dicom/decoder';
import { rectMask, writeGrayPng } from './project-fixtures';

const CORPUS = '/usr/lib/python3/dist-packages/pydicom/data/test_files';
// Single-frame grayscale images of the corpus (dicom-conformance.test.ts finds them by pydicom).
const IMAGES = [
  '693_J2KI.dcm',
  'CT_small.dcm',
  'J2K_pixelrep_mismatch.dcm',
  'JPEG-lossy.dcm',
  'JPEG2000.dcm',
  'JPGExtended.dcm',
  'MR_small.dcm',
  'MR_small_RLE.dcm',
  'MR_small_bigendian.dcm',
  'MR_small_expb.dcm',
  'MR_small_implicit.dcm',
  'MR_small_jp2klossless.dcm',
  'MR_small_jpeg_ls_lossless.dcm',
  'MR_small_padded.dcm',
  'image_dfl.dcm',
];
const tiny = { size: 32, base: 4, batch: 4, valFraction: 0.25, seed: 3, epochs: 1 } as const;

async function finish(service: Service, job: Job): Promise<Job> {
  await service.jobs.wait(job.id).catch(() => undefined);
  return service.jobs.get(job.id);
}

describe.runIf(fs.existsSync(CORPUS))("training on pydicom's test images", () => {
  let service: Service | undefined;
  afterAll(() => service?.close());

  it('imports them with a mask each, trains and predicts without skipping any', async () => {
    const root = fs.mkdtempSync(path.join(os.tmpdir(), 'qataseg-dicom-train-'));
    const projectDir = fs.mkdtempSync(path.join(os.tmpdir(), 'qataseg-dicom-train-project-'));
    for (const name of IMAGES) {
      const bytes = fs.readFileSync(path.join(CORPUS, name));
      const { width, height } = await probeDicomForImport(new Uint8Array(bytes));
      fs.mkdirSync(path.join(root, 'Train Set/Images'), { recursive: true });
      fs.mkdirSync(path.join(root, 'Train Set/Ground-truths'), { recursive: true });
      fs.writeFileSync(path.join(root, 'Train Set/Images', name), bytes);
      const mask = rectMask(width, height, width >> 2, height >> 2, width >> 1, height >> 1);
      await writeGrayPng(
        path.join(root, 'Train Set/Ground-truths', `mask_${name.replace(/\.dcm$/, '.png')}`),
        mask,
        width,
        height,
      );
    }
    service = createService({ transport: 'http', backend: 'wasm', projectDir });
    const imported = await finish(service, await service.invoke('dataset.import', { root }));
    expect(imported.error).toBeNull();
    const report = (imported.result as { report: { pairs: number; skipped: unknown[] } }).report;
    expect(report.skipped).toEqual([]);
    expect(report.pairs).toBe(IMAGES.length);

    const trained = await finish(service, await service.invoke('train.start', tiny));
    expect(trained.error).toBeNull();
    expect(trained.state).toBe('succeeded');
    const card = await service.invoke('models.get', { version: 'v1' });
    expect(card.data.skipped ?? []).toEqual([]);
    expect(card.data.train + card.data.val).toBe(IMAGES.length);

    const predicted = await finish(service, await service.invoke('predict.start', {}));
    expect(predicted.state).toBe('succeeded');
    const result = predicted.result as { predicted: number; skipped: unknown[] };
    expect(result.skipped).toEqual([]);
    expect(result.predicted).toBe(IMAGES.length);
  }, 300_000);
});
