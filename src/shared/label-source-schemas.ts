/**
 * Which labels training, evaluation and export use (team review, issue 23). A leaf: the ml and
 * export contracts, the CLI and the renderer import it.
 *
 * - `final`: the label in force (the correction head, else the ground truth), which is what an
 *   adjudication writes; the behaviour of every project without team review.
 * - `consensus` (STAPLE if stored, else majority vote), `consensus:staple`, `consensus:vote`: the
 *   stored consensus of the newest plan that has one for the image, as a mask (probability >= 0.5).
 * - `reader:NAME`: that reader's label (their head) in the newest plan where they read the image.
 */
import { z } from 'zod';

export type LabelSourceSpec =
  | { kind: 'final' }
  | { kind: 'consensus'; method: 'staple' | 'vote' | null }
  | { kind: 'reader'; name: string };

const READER = /^reader:([\p{L}\p{N}._@-]{1,64})$/u;

/** Parses `final | consensus[:staple|vote] | reader:NAME`; null when it is none of them. */
export function parseLabelSource(text: string): LabelSourceSpec | null {
  const value = text.trim();
  if (value === 'final') return { kind: 'final' };
  if (value === 'consensus') return { kind: 'consensus', method: null };
  if (value === 'consensus:staple') return { kind: 'consensus', method: 'staple' };
  if (value === 'consensus:vote') return { kind: 'consensus', method: 'vote' };
  const reader = READER.exec(value);
  return reader ? { kind: 'reader', name: reader[1] } : null;
}

export function formatLabelSource(spec: LabelSourceSpec): string {
  if (spec.kind === 'final') return 'final';
  if (spec.kind === 'consensus') return spec.method ? `consensus:${spec.method}` : 'consensus';
  return `reader:${spec.name}`;
}

/** The contract's field: a string in the form above (optional everywhere; absent = final). */
export const labelSourceTextSchema = z
  .string()
  .max(80)
  .refine((text) => parseLabelSource(text) !== null, {
    message: 'a label source is final, consensus, consensus:staple, consensus:vote or reader:NAME',
  });
