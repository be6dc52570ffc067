import { describe, expect, it } from 'vitest';
import { DEFAULT_DIFF, pairForImage } from '../../src/renderer/src/review/figures-pair';

describe('the Figures panel pair', () => {
  it('compares the prediction with the label in force by default where a prediction exists', () => {
    expect(pairForImage(DEFAULT_DIFF, true)).toMatchObject({
      candidate: 'prediction',
      reference: 'label',
    });
    expect(pairForImage(DEFAULT_DIFF, false)).toMatchObject({
      candidate: 'label',
      reference: 'ground-truth',
    });
    // Back on an image with a prediction, the default comes back (nothing was picked).
    const without = pairForImage(DEFAULT_DIFF, false);
    expect(pairForImage(without, true)).toMatchObject({ candidate: 'prediction' });
  });

  it('keeps a pair the reviewer picked, except a prediction the image lacks', () => {
    const picked = {
      ...DEFAULT_DIFF,
      candidate: 'label',
      reference: 'ground-truth',
      chosen: true,
    } as const;
    expect(pairForImage(picked, true)).toEqual(picked);
    const predictionPicked = { ...picked, candidate: 'prediction' } as const;
    expect(pairForImage(predictionPicked, false).candidate).toBe('label');
  });
});
