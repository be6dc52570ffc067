import { afterEach, describe, expect, it } from 'vitest';
import path from 'node:path';
import {
  imageAbsolutePath,
  getImage,
  listImages,
  queryImages,
  setReview,
} from '../../src/core/project/images';
import {
  addCorrection,
  currentLabel,
  latestPrediction,
  predictionFigures,
  savePrediction,
  trainingPairs,
} from '../../src/core/project/masks';
import { encodeGray8 } from '../../src/core/project/mask-png';
import type { ProjectStore } from '../../src/core/project/store';
import { projectWithImages, rectMask } from './project-fixtures';

const stores: ProjectStore[] = [];
afterEach(() => {
  for (const store of stores.splice(0)) store.close();
});

async function fixture() {
  const gt = rectMask(32, 24, 0, 0, 8, 8);
  const result = await projectWithImages([
    { name: 'covid_10.png', split: 'train', gt },
    { name: 'covid_2.png', split: 'train', gt },
    { name: 'covid_3.png', split: 'test', gt },
    { name: 'control_1.png', split: 'control', gt: null },
    { name: '50%_odd.png', split: 'unassigned', gt: null },
  ]);
  stores.push(result.store);
  return { ...result, gt };
}

describe('images repository', () => {
  it('lists, filters, searches and pages in one query with a total', async () => {
    const { store, ids } = await fixture();
    const all = listImages(store.db, {}, null);
    expect(all.total).toBe(5);
    // Natural order: covid_2 before covid_10.
    expect(all.items.map((i) => i.name)).toEqual([
      '50%_odd.png',
      'control_1.png',
      'covid_2.png',
      'covid_3.png',
      'covid_10.png',
    ]);
    expect(all.items[4]).toMatchObject({
      hasGroundTruth: true,
      hasCorrection: false,
      hasPrediction: false,
    });
    const page = listImages(store.db, { offset: 1, limit: 2, direction: 'desc' }, null);
    expect(page.total).toBe(5);
    expect(page.items.map((i) => i.name)).toEqual(['covid_3.png', 'covid_2.png']);
    expect(listImages(store.db, { filter: { split: 'train' } }, null).total).toBe(2);
    expect(listImages(store.db, { filter: { search: 'COVID_1' } }, null).items).toHaveLength(1);
    // LIKE wildcards in the search are literal.
    expect(listImages(store.db, { filter: { search: '%' } }, null).items.map((i) => i.id)).toEqual([
      ids[4],
    ]);
    expect(listImages(store.db, { offset: 50 }, null)).toEqual({ total: 5, items: [] });
    setReview(store.db, ids[1], { state: 'flagged' });
    expect(
      listImages(store.db, { filter: { state: 'flagged' } }, null).items.map((i) => i.id),
    ).toEqual([ids[1]]);
    expect(queryImages(store.db, { splits: ['train', 'test'] }).map((i) => i.id)).toEqual(
      ids.slice(0, 3),
    );
    const image = getImage(store.db, ids[0]);
    expect(imageAbsolutePath(image)).toBe(path.join(image.datasetRoot, 'Images', 'covid_10.png'));
  });

  it('sorts by the active model figures with missing figures last', async () => {
    const { store, ids, gt } = await fixture();
    const probabilities = (fill: number, x1: number) => {
      const p = new Uint8Array(32 * 24);
      const mask = rectMask(32, 24, 0, 0, x1, 8);
      for (let i = 0; i < p.length; i++) p[i] = mask[i] ? fill : 0;
      return p;
    };
    await savePrediction(store.db, ids[0], 'm1', probabilities(255, 8)); // Dice 1
    await savePrediction(store.db, ids[1], 'm1', probabilities(200, 16)); // Dice 2/3
    await savePrediction(store.db, ids[2], 'm2', probabilities(255, 8)); // other model
    const byDice = listImages(store.db, { sort: 'dice', direction: 'asc' }, 'm1').items;
    expect(byDice.slice(0, 2).map((i) => i.id)).toEqual([ids[1], ids[0]]);
    expect(byDice[0].dice).toBeCloseTo(2 / 3);
    expect(byDice[2].dice).toBeNull();
    const desc = listImages(store.db, { sort: 'dice', direction: 'desc' }, 'm1').items;
    expect(desc.slice(0, 2).map((i) => i.id)).toEqual([ids[0], ids[1]]);
    expect(desc[4].dice).toBeNull();
    const byArea = listImages(store.db, { sort: 'area', direction: 'desc' }, 'm1').items;
    expect(byArea[0].id).toBe(ids[1]);
    expect(byArea[0].predictedArea).toBeCloseTo((16 * 8) / (32 * 24));
    const byUncertainty = listImages(
      store.db,
      { sort: 'uncertainty', direction: 'desc' },
      'm1',
    ).items;
    expect(byUncertainty[0].id).toBe(ids[1]);
    expect(byUncertainty[0].uncertainty).toBeGreaterThan(0);
    expect(byUncertainty[1].uncertainty).toBe(0);
    // Filters on the active model's figures; the total counts the same rows.
    const worst = listImages(store.db, { filter: { dice: { max: 0.9 } } }, 'm1');
    expect(worst).toMatchObject({ total: 1, items: [{ id: ids[1] }] });
    const unpredicted = listImages(store.db, { filter: { hasPrediction: false } }, 'm1');
    expect(unpredicted.total).toBe(3);
    expect(unpredicted.items.map((i) => i.id).sort()).toEqual([ids[2], ids[3], ids[4]].sort());
    const wide = listImages(store.db, { filter: { area: { min: 0.1 }, split: 'train' } }, 'm1');
    expect(wide.items.map((i) => i.id)).toEqual([ids[1]]);
    expect(listImages(store.db, { filter: { hasGroundTruth: false } }, 'm1').total).toBe(2);
    // The newest prediction of a model wins.
    const newer = await savePrediction(store.db, ids[0], 'm1', probabilities(255, 4));
    expect(latestPrediction(store.db, ids[0], 'm1')?.id).toBe(newer);
    expect(latestPrediction(store.db, ids[0], 'm2')).toBeNull();
    expect(predictionFigures(probabilities(255, 4), gt).dice).toBeCloseTo(2 / 3);
  });

  it('gives training pairs by split and label source', async () => {
    const { store, ids } = await fixture();
    const correction = rectMask(32, 24, 0, 0, 4, 4);
    addCorrection(store.db, ids[1], {
      png: await encodeGray8(correction, 32, 24),
      width: 32,
      height: 24,
      foreground: 16,
      author: 'test',
    });
    setReview(store.db, ids[0], { state: 'accepted' });
    expect(currentLabel(store.db, ids[1])?.source).toBe('correction');
    expect(currentLabel(store.db, ids[0])?.source).toBe('ground-truth');
    expect(currentLabel(store.db, ids[3])).toBeNull();

    const train = trainingPairs(store.db, {
      splits: ['train'],
      sources: ['ground-truth', 'corrected', 'accepted'],
    });
    expect(train.map((p) => [p.imageId, p.labelSource])).toEqual([
      [ids[0], 'accepted'],
      [ids[1], 'corrected'],
    ]);
    expect(train[1].labelRevisionId).toBe(currentLabel(store.db, ids[1])?.id);
    expect(
      trainingPairs(store.db, { splits: ['train'], sources: ['corrected'] }).map((p) => p.imageId),
    ).toEqual([ids[1]]);
    expect(
      trainingPairs(store.db, { splits: ['train', 'test'], sources: ['ground-truth'] }).map(
        (p) => p.imageId,
      ),
    ).toEqual([ids[0], ids[2]]);
    setReview(store.db, ids[2], { state: 'flagged' });
    expect(trainingPairs(store.db, { splits: ['test'], sources: ['ground-truth'] })).toEqual([]);
    expect(
      trainingPairs(store.db, {
        splits: ['test'],
        sources: ['ground-truth'],
        includeFlagged: true,
      }),
    ).toHaveLength(1);
  });
});
