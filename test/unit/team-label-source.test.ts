/**
 * `--source final|consensus|reader:NAME`: export writes the decided label, the stored consensus
 * or one reader's label (pixels compared), training and evaluation read the same labels, and a
 * DICOM SEG names the reader or the consensus method (read back with pydicom).
 */
import { execFileSync } from 'node:child_process';
import fs from 'node:fs';
import path from 'node:path';
import { beforeAll, describe, expect, it } from 'vitest';
import { readLabelPixels, readSplits } from '../../src/core/ml/data';
import { saveConsensus } from '../../src/core/project/consensus';
import { labelSourcePairs } from '../../src/core/project/label-source';
import { decodeBinaryMask } from '../../src/core/project/mask-png';
import { openDatabase } from '../../src/core/project/store';
import { decideAdjudication } from '../../src/core/team/adjudication';
import { OWNER } from '../../src/core/team/caller';
import { PYTHON, qataseg } from './interop-fixtures';
import { projectWithImages, rectMask, tempDir } from './project-fixtures';
import { addUsers, insertPlan, read } from './team-adjud-fixtures';

const W = 32;
const H = 24;
const gt = rectMask(W, H, 0, 0, 6, 6);
const ana = [rectMask(W, H, 2, 2, 12, 12), rectMask(W, H, 20, 4, 30, 10)];
const bo = [rectMask(W, H, 4, 8, 16, 20), new Uint8Array(W * H)];
const stapleInside = [rectMask(W, H, 3, 3, 13, 13), rectMask(W, H, 18, 2, 28, 12)];

let dir = '';

beforeAll(async () => {
  const project = await projectWithImages([
    { name: 'a.png', split: 'train', gt },
    { name: 'b.png', split: 'train', gt },
  ]);
  dir = project.dir;
  const db = project.store.db;
  const users = await addUsers(db, [
    ['ana', 'reader'],
    ['bo', 'reader'],
  ]);
  const plan = insertPlan(db, project.ids, [users.ana, users.bo]);
  for (const [i, id] of project.ids.entries()) {
    await read(db, plan, id, users.ana, ana[i]);
    await read(db, plan, id, users.bo, bo[i]);
    // A probability map: 200 inside the rectangle, 100 outside (below 0.5).
    const probability = stapleInside[i].map((v) => (v ? 200 : 100));
    await saveConsensus(db, {
      planId: plan,
      imageId: id,
      method: 'staple',
      probability,
      width: W,
      height: H,
      readers: [],
    });
  }
  // Image a is adjudicated: bo's label becomes final. Image b keeps its ground truth.
  const view = db
    .prepare('SELECT head_id AS id FROM plan_assignments WHERE image_id = ? AND user_id = ?')
    .get(project.ids[0], users.bo) as { id: number };
  await decideAdjudication(
    project.store,
    { planId: plan, imageId: project.ids[0], basis: { kind: 'reader', revisionId: view.id } },
    OWNER,
  );
  project.store.close();
}, 60_000);

/** Runs `qataseg export` and returns each image's exported mask (0/255) by its dataset path. */
async function exportMasks(source: string, format = 'png') {
  const out = path.join(tempDir('export'), 'out');
  const run = await qataseg(
    'export',
    '--project',
    dir,
    '--out',
    out,
    '--source',
    source,
    '--format',
    format,
    '--json',
  );
  expect(run.stderr).toBe('');
  expect(run.code).toBe(0);
  const lines = fs.readFileSync(path.join(out, 'manifest.csv'), 'utf8').trim().split('\n');
  const header = lines[0].split(',');
  const rows = lines.slice(1).map((line) => {
    const cells = line.split(',');
    return Object.fromEntries(header.map((name, i) => [name, cells[i]]));
  });
  return { out, rows };
}

async function pngMasks(source: string) {
  const { out, rows } = await exportMasks(source);
  const masks = new Map<string, Uint8Array>();
  for (const row of rows) {
    const decoded = await decodeBinaryMask(fs.readFileSync(path.join(out, row.mask_file)));
    masks.set(row.image, decoded.data);
  }
  return { masks, rows };
}

describe('label sources', () => {
  it("export --source reader:NAME writes that reader's labels", async () => {
    const { masks, rows } = await pngMasks('reader:ana');
    expect(masks.get('Images/a.png')).toEqual(ana[0]);
    expect(masks.get('Images/b.png')).toEqual(ana[1]);
    expect(rows.map((row) => row.source)).toEqual(['reader:ana', 'reader:ana']);
  }, 60_000);

  it('export --source consensus writes the stored consensus at >= 0.5', async () => {
    const { masks } = await pngMasks('consensus');
    expect(masks.get('Images/a.png')).toEqual(stapleInside[0]);
    expect(masks.get('Images/b.png')).toEqual(stapleInside[1]);
  }, 60_000);

  it('export --source final writes the adjudicated label, else the label in force', async () => {
    const { masks, rows } = await pngMasks('final');
    expect(masks.get('Images/a.png')).toEqual(bo[0]);
    expect(masks.get('Images/b.png')).toEqual(gt);
    expect(rows.map((row) => row.source)).toEqual(['correction', 'ground-truth']);
  }, 60_000);

  it('refuses a reader the project does not know, writing nothing', async () => {
    const out = path.join(tempDir('export'), 'out');
    const run = await qataseg('export', '--project', dir, '--out', out, '--source', 'reader:zed');
    expect(run.code).not.toBe(0);
    expect(run.stderr).toMatch(/no user named zed/);
    expect(fs.existsSync(path.join(out, 'manifest.csv'))).toBe(false);
  }, 60_000);

  it('DICOM SEG names the reader, the consensus method and the adjudicator', async () => {
    const creators: Record<string, string[]> = {};
    for (const source of ['reader:ana', 'consensus:staple', 'final']) {
      const { out, rows } = await exportMasks(source, 'dicom-seg');
      const files = rows.map((row) => path.join(out, row.mask_file));
      const read = execFileSync(
        PYTHON,
        [
          '-c',
          `import json, sys, pydicom
print(json.dumps([[str(d.ContentCreatorName), str(d.ContentDescription)] for d in map(pydicom.dcmread, sys.argv[1:])]))`,
          ...files,
        ],
        { encoding: 'utf8' },
      );
      creators[source] = (JSON.parse(read) as [string, string][]).map((pair) => pair.join(' | '));
    }
    expect(creators['reader:ana']).toEqual([
      expect.stringMatching(/^ana \| .*segmentation, reader ana, plan \d+$/),
      expect.stringMatching(/^ana \| .*segmentation, reader ana, plan \d+$/),
    ]);
    expect(creators['consensus:staple']).toEqual([
      expect.stringMatching(/^STAPLE consensus \| .*STAPLE consensus, plan \d+$/),
      expect.stringMatching(/^STAPLE consensus \| .*STAPLE consensus, plan \d+$/),
    ]);
    expect(creators.final[0]).toMatch(/^adjudicated by owner \| /);
  }, 120_000);

  it("training and evaluation read the same labels (the worker's data layer)", async () => {
    const db = openDatabase(path.join(dir, 'project.sqlite'), { readonly: true });
    try {
      const labels = ['ground-truth', 'accepted', 'corrected'] as const;
      const splits = readSplits(db, [...labels], 0, 1, { kind: 'reader', name: 'ana' });
      expect(splits.train.map((pair) => pair.labelSource)).toEqual(['reader', 'reader']);
      expect(await readLabelPixels(db, splits.train[1])).toEqual(ana[1]);
      const consensus = labelSourcePairs(
        db,
        { splits: ['train'], sources: [...labels] },
        { kind: 'consensus', method: 'staple' },
      );
      expect(await readLabelPixels(db, consensus[0])).toEqual(stapleInside[0]);
      const final = readSplits(db, [...labels], 0, 1);
      expect(await readLabelPixels(db, final.train[0])).toEqual(bo[0]);
    } finally {
      db.close();
    }
  });
});
