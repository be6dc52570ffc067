/**
 * Datasets out for the cluster tools, checked with tools that are not ours: `qataseg export
 * --format nnunet` against every rule of nnU-Net v2's documented raw dataset format (a checker
 * reading the files with PIL and numpy), with corrections as labels where they exist; `--format
 * nifti` read back by nibabel with the same pixels as the source PNGs read by PIL, 8- and 16-bit,
 * on images that are not square (a transposed axis would show), and pixel spacing in the header.
 */
import fs from 'node:fs';
import path from 'node:path';
import sharp from 'sharp';
import { beforeAll, describe, expect, it } from 'vitest';
import { encodeNiftiGz } from '../../src/core/formats/nifti-codec';
import { addCorrection } from '../../src/core/project/masks';
import { encodeGray8 } from '../../src/core/project/mask-png';
import { ProjectStore } from '../../src/core/project/store';
import { python, qataseg } from './interop-fixtures';
import { discProject } from './ml-fixtures';
import { foregroundOf, rectMask, tempDir } from './project-fixtures';

interface NnunetCheck {
  errors: string[];
  training: number;
  test: number;
  labelValues: number[];
  folds: number;
}

async function rawGray(file: string): Promise<{ data: Buffer; width: number; height: number }> {
  const { data, info } = await sharp(file)
    .extractChannel(0)
    .raw()
    .toBuffer({ resolveWithObject: true });
  return { data, width: info.width, height: info.height };
}

describe('qataseg export --format nnunet', () => {
  let project: Awaited<ReturnType<typeof discProject>>;
  let corrected: Uint8Array;

  beforeAll(async () => {
    project = await discProject(8, 3, 48, 40);
    // A correction of the first training image: the export's label there must be it.
    const store = ProjectStore.open(project.dir);
    corrected = rectMask(48, 40, 5, 6, 30, 20);
    addCorrection(store.db, project.ids[0], {
      png: await encodeGray8(corrected, 48, 40),
      width: 48,
      height: 40,
      foreground: foregroundOf(corrected),
      author: 'test',
    });
    store.close();
  });

  it('writes a raw dataset that passes every documented nnU-Net rule', async () => {
    const out = tempDir('nnunet');
    const run = await qataseg(
      'export',
      '--project',
      project.dir,
      '--out',
      out,
      '--format',
      'nnunet',
      '--dataset-id',
      '501',
      '--dataset-name',
      'QaTa_disc',
      '--json',
    );
    expect(run.code, run.stderr).toBe(0);
    const root = path.join(out, 'Dataset501_QaTa_disc');
    const check = JSON.parse(await python('nnunet_check.py', root)) as NnunetCheck;
    expect(check).toEqual({ errors: [], training: 8, test: 3, labelValues: [0, 1], folds: 1 });

    const dataset = JSON.parse(fs.readFileSync(path.join(root, 'dataset.json'), 'utf8')) as unknown;
    expect(dataset).toMatchObject({
      channel_names: { '0': 'X-ray' },
      labels: { background: 0, infection: 1 },
      numTraining: 8,
      file_ending: '.png',
    });
    // splits_final: fold 0 holds out what the trainer would (10% of 8 rounds to 1 image).
    const [fold] = JSON.parse(fs.readFileSync(path.join(root, 'splits_final.json'), 'utf8')) as {
      train: string[];
      val: string[];
    }[];
    expect(fold.val).toHaveLength(1);
    expect(fold.train).toHaveLength(7);

    // Images are the source pixels; labels 0/1, the correction where there is one.
    const image = await rawGray(path.join(root, 'imagesTr', 'disc_1_0000.png'));
    const source = await rawGray(path.join(project.root, 'Images', 'disc_1.png'));
    expect(image.data.equals(source.data)).toBe(true);
    expect([image.width, image.height]).toEqual([48, 40]);
    const label = await rawGray(path.join(root, 'labelsTr', 'disc_1.png'));
    expect(Array.from(label.data)).toEqual(Array.from(corrected, (v) => (v > 0 ? 1 : 0)));
    expect(fs.readdirSync(path.join(root, 'imagesTs')).sort()).toEqual([
      'disc_10_0000.png',
      'disc_11_0000.png',
      'disc_9_0000.png',
    ]);
    expect(fs.existsSync(path.join(root, 'labelsTs', 'disc_9.png'))).toBe(true);

    // The checker is not a rubber stamp: a dataset that breaks rules is caught.
    fs.rmSync(path.join(root, 'labelsTr', 'disc_2.png'));
    fs.writeFileSync(
      path.join(root, 'dataset.json'),
      JSON.stringify({ ...(dataset as object), numTraining: 99 }),
    );
    const broken = JSON.parse(await python('nnunet_check.py', root)) as NnunetCheck;
    expect(broken.errors.join('\n')).toMatch(/images without label: \['disc_2'\]/);
    expect(broken.errors.join('\n')).toMatch(/numTraining 99 but 7 training cases/);
  }, 120_000);

  it('refuses nnunet without a dataset id and name', async () => {
    const run = await qataseg(
      'export',
      '--project',
      project.dir,
      '--out',
      tempDir('nnunet'),
      '--format',
      'nnunet',
    );
    expect(run.code).toBe(2);
    expect(run.stderr).toMatch(/the nnunet format needs a dataset id/);
  });
});

describe('qataseg export --format nifti', () => {
  it('writes image and mask as .nii.gz that nibabel reads with the same pixels', async () => {
    // A QaTa v1 folder: two 8-bit images and one 16-bit image, 40 wide and 30 high.
    const dataset = tempDir('nifti-dataset');
    const [w, h] = [40, 30];
    const images: { name: string; sixteen: boolean }[] = [
      { name: 'a.png', sixteen: false },
      { name: 'b.png', sixteen: false },
      { name: 'c.png', sixteen: true },
    ];
    fs.mkdirSync(path.join(dataset, 'Images'));
    fs.mkdirSync(path.join(dataset, 'Ground-truths'));
    for (const [index, image] of images.entries()) {
      const mask = rectMask(w, h, 3 + index, 4, 20 + index, 25);
      if (image.sixteen) {
        const values = new Uint16Array(w * h).map((_, i) => (i * 997 + 13) % 4096);
        // A Uint16Array is read by sharp as 16-bit raw pixels.
        await sharp(values, { raw: { width: w, height: h, channels: 1 } })
          .toColourspace('grey16')
          .png()
          .toFile(path.join(dataset, 'Images', image.name));
      } else {
        const values = new Uint8Array(w * h).map((_, i) => (i * 7 + index * 31) % 256);
        await sharp(Buffer.from(values), { raw: { width: w, height: h, channels: 1 } })
          .toColourspace('b-w')
          .png()
          .toFile(path.join(dataset, 'Images', image.name));
      }
      await sharp(Buffer.from(mask), { raw: { width: w, height: h, channels: 1 } })
        .toColourspace('b-w')
        .png()
        .toFile(path.join(dataset, 'Ground-truths', `mask_${image.name}`));
    }
    const projectDir = tempDir('nifti-project');
    expect((await qataseg('import', dataset, '--project', projectDir)).code).toBe(0);
    const out = tempDir('nifti-out');
    const run = await qataseg(
      'export',
      '--project',
      projectDir,
      '--out',
      out,
      '--format',
      'nifti',
      '--json',
    );
    expect(run.code, run.stderr).toBe(0);
    const args = images.flatMap(({ name }) => {
      const stem = name.replace(/\.png$/, '');
      return [
        path.join(out, 'Images', `${stem}.nii.gz`),
        path.join(dataset, 'Images', name),
        'same',
        path.join(out, 'Ground-truths', `mask_${stem}.nii.gz`),
        path.join(dataset, 'Ground-truths', `mask_${name}`),
        'mask',
      ];
    });
    const read = JSON.parse(await python('nifti_compare.py', ...args)) as {
      file: string;
      shape: number[];
      dtype: string;
      agree: boolean;
    }[];
    expect(read).toHaveLength(6);
    for (const entry of read) {
      expect(entry.agree, entry.file).toBe(true);
      // x (columns) first, one slice.
      expect(entry.shape).toEqual([w, h, 1]);
    }
    expect(read.map((entry) => entry.dtype)).toEqual([
      'uint8',
      'uint8',
      'uint8',
      'uint8',
      'uint16',
      'uint8',
    ]);
  }, 120_000);

  it('puts known pixel spacing in the header as millimetres', async () => {
    const file = path.join(tempDir('nifti-spacing'), 'spaced.nii.gz');
    const data = new Uint8Array(6 * 4).map((_, i) => i);
    fs.writeFileSync(
      file,
      await encodeNiftiGz({ data, width: 6, height: 4, pixelSpacing: [0.5, 0.25] }),
    );
    const png = path.join(path.dirname(file), 'spaced.png');
    await sharp(Buffer.from(data), { raw: { width: 6, height: 4, channels: 1 } })
      .toColourspace('b-w')
      .png()
      .toFile(png);
    const [entry] = JSON.parse(await python('nifti_compare.py', file, png, 'same')) as {
      zooms: number[];
      units: string;
      agree: boolean;
    }[];
    expect(entry).toMatchObject({ zooms: [0.25, 0.5, 1], units: 'mm', agree: true });
  });
});
