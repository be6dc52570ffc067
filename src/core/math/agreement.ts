/**
 * Agreement between two readers' masks.
 *
 * Stand-in on the team-adjud branch: team-agree owns this file (dice, cohenKappa, fleissKappa);
 * at merge their version replaces this one. Only `dice` is written here, with the agreed
 * signature.
 */

/**
 * Dice of two masks of the same size (one byte per pixel, > 0 is lesion). Two empty masks agree
 * completely: dice 1 with `bothEmpty` true.
 */
export function dice(a: Uint8Array, b: Uint8Array): { dice: number; bothEmpty: boolean } {
  if (a.length !== b.length) {
    throw new Error(`masks differ in size: ${a.length} and ${b.length} pixels`);
  }
  let both = 0;
  let sum = 0;
  for (let i = 0; i < a.length; i++) {
    const x = a[i] > 0 ? 1 : 0;
    const y = b[i] > 0 ? 1 : 0;
    both += x & y;
    sum += x + y;
  }
  if (sum === 0) return { dice: 1, bothEmpty: true };
  return { dice: (2 * both) / sum, bothEmpty: false };
}
