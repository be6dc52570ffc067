/**
 * The worklist's figures explain themselves on hover: the Dice, Area and Unc. headers say what
 * they measure, and a Dice of 1.000 for an empty label against an empty prediction says "both
 * empty" rather than passing for a perfect outline.
 */
import { describe, expect, it } from 'vitest';
import { createApi } from '../../src/shared/client';

async function loadWorklist() {
  window.api = createApi({
    call: async () => {
      throw new Error('no host in this test');
    },
    subscribe: () => () => undefined,
    mediaUrl: (kind, id) => `test://${kind}/${id}`,
  });
  return import('../../src/renderer/src/review/Worklist');
}

describe('worklist figures', () => {
  it('Dice, Area and Unc. headers explain on hover', async () => {
    const { COLUMNS } = await loadWorklist();
    for (const sort of ['dice', 'area', 'uncertainty']) {
      const column = COLUMNS.find((c) => c.sort === sort);
      expect(column?.title, sort).toMatch(/\w{4,}.*\w{4,}/);
    }
    expect(COLUMNS.find((c) => c.sort === 'dice')?.title).toMatch(/both are empty/);
  });

  it('Dice 1.000 of an empty label against an empty prediction says both empty', async () => {
    const { diceTitle } = await loadWorklist();
    expect(diceTitle({ dice: 1, predictedArea: 0 })).toMatch(/both are empty/);
    expect(diceTitle({ dice: 1, predictedArea: 0.02 })).toBeUndefined();
    expect(diceTitle({ dice: 0.8, predictedArea: 0.02 })).toBeUndefined();
    expect(diceTitle({ dice: null, predictedArea: null })).toMatch(/No prediction/);
  });
});
