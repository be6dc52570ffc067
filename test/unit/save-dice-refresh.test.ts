/**
 * The prediction Dice shown beside a label is refreshed after each save, undo and redo. A save that
 * committed is answered as saved even when that refresh fails (the Dice becomes unknown), and a
 * refresh that computed against a label that moved meanwhile never writes the stale Dice last.
 */
import { afterEach, describe, expect, it } from 'vitest';
import {
  addCorrection,
  listRevisions,
  predictionStats,
  refreshPredictionDice,
  savePrediction,
} from '../../src/core/project/masks';
import { encodeGray8 } from '../../src/core/project/mask-png';
import { ACTIVE_MODEL_KEY } from '../../src/core/project/review';
import { Service } from '../../src/core/service';
import { foregroundOf, projectWithImages, rectMask } from './project-fixtures';

const W = 32;
const H = 24;
const MODEL = 'v1';
const services: Service[] = [];
afterEach(() => {
  for (const service of services.splice(0)) service.close();
});

const labelA = rectMask(W, H, 0, 0, 10, 10);
const labelB = rectMask(W, H, 12, 6, 28, 20);

async function setup() {
  const { store, ids } = await projectWithImages(
    [{ name: 'a.png', split: 'train', gt: labelA }],
    W,
    H,
  );
  const imageId = ids[0];
  // The model predicts exactly label B: Dice 1 against B, 0 against A.
  const predictionId = await savePrediction(store.db, imageId, MODEL, labelB);
  store.setMeta(ACTIVE_MODEL_KEY, MODEL);
  return { store, imageId, predictionId };
}

async function correction(mask: Uint8Array) {
  return {
    png: await encodeGray8(mask, W, H),
    width: W,
    height: H,
    foreground: foregroundOf(mask),
    author: 'test',
  };
}

describe('prediction Dice refresh after a save', () => {
  it('answers a committed save as saved when the refresh fails, and makes the Dice unknown', async () => {
    const { store, imageId, predictionId } = await setup();
    expect(predictionStats(store.db, imageId, MODEL)?.dice).toBe(0);
    // The stored prediction is damaged: reading it back for the refresh throws.
    store.db
      .prepare('UPDATE mask_revisions SET png = ? WHERE id = ?')
      .run(Buffer.from('x'), predictionId);
    const dir = store.dir;
    store.close();
    const service = new Service({ transport: 'http', projectDir: dir });
    services.push(service);
    const png = (await encodeGray8(labelB, W, H)).toString('base64');
    const detail = await service.invoke('masks.save', { imageId, png });
    expect(detail.correctionRevisionId).not.toBeNull();
    const db = service.project().db;
    expect(listRevisions(db, imageId).some((r) => r.source === 'correction')).toBe(true);
    expect(predictionStats(db, imageId, MODEL)?.dice).toBeNull();
  });

  it('writes the Dice of the newer label when the label moved while a refresh computed', async () => {
    const { store, imageId } = await setup();
    const toB = await correction(labelB);
    // The refresh starts against label A; label B commits before it has decoded anything.
    const refreshing = refreshPredictionDice(store.db, imageId);
    addCorrection(store.db, imageId, toB);
    await refreshing;
    expect(predictionStats(store.db, imageId, MODEL)?.dice).toBeCloseTo(1, 6);
    store.close();
  });
});
