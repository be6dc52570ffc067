/**
 * Schemas of team review's agreement figures and consensus (src/core/team/agreement.ts,
 * consensus.ts): the `team.agreement` report, the `consensus.run` input and result. The CLI's
 * `qataseg agreement --json` prints the report as it is; ./agreement-csv.ts flattens it.
 */
import { z } from 'zod';
import { idSchema } from './schema-helpers';

/** STAPLE (per-pixel probability by EM over readers' sensitivity and specificity) or majority vote. */
export const consensusMethodSchema = z.enum(['staple', 'vote']);
export type ConsensusMethod = z.infer<typeof consensusMethodSchema>;

export const agreementInputSchema = z
  .object({
    /** Default: the latest active plan. */
    planId: idSchema.optional(),
    /** The consensus the readers are measured against. */
    method: consensusMethodSchema.default('staple'),
  })
  .strict();
export type AgreementInput = z.input<typeof agreementInputSchema>;

const fraction = z.number().min(0).max(1);

/** One reader of the plan and their figures against the consensus. */
export const agreementReaderSchema = z.object({
  /** The reader's name, or "Reader N" when the plan keeps readers anonymous. */
  label: z.string(),
  /** Null when the plan keeps readers anonymous. */
  userId: z.number().int().nullable(),
  assigned: z.number().int().nonnegative(),
  read: z.number().int().nonnegative(),
  /** Images they called positive (a label with any lesion pixel). */
  positive: z.number().int().nonnegative(),
  /** Over the images with a consensus (two or more readings): mean Dice against it. */
  dice: fraction.nullable(),
  /** Pooled over those images' pixels: lesion of the consensus they marked. */
  sensitivity: fraction.nullable(),
  /** Pooled over those images' pixels: background of the consensus they left unmarked. */
  specificity: fraction.nullable(),
  /** Images those three figures cover. */
  consensusImages: z.number().int().nonnegative(),
});
export type AgreementReader = z.infer<typeof agreementReaderSchema>;

/** Dice of two readers' labels of one image; `a`, `b` index `readers`. */
export const agreementPairSchema = z.object({
  a: z.number().int().nonnegative(),
  b: z.number().int().nonnegative(),
  dice: fraction,
  /** Both readers left the mask empty: Dice 1 by agreement on a negative image. */
  bothEmpty: z.boolean(),
});

export const agreementImageSchema = z.object({
  imageId: z.number().int(),
  name: z.string(),
  assigned: z.number().int().nonnegative(),
  read: z.number().int().nonnegative(),
  pairs: z.array(agreementPairSchema),
  /** Mean of the pairs' Dice; null with fewer than two readings. */
  meanDice: fraction.nullable(),
  bothEmptyPairs: z.number().int().nonnegative(),
  positive: z.number().int().nonnegative(),
  negative: z.number().int().nonnegative(),
  /** Some readers called it positive, others negative. */
  split: z.boolean(),
  /** Two or more readings and the mean Dice is below the plan's threshold, or a split call. */
  disputed: z.boolean(),
});
export type AgreementImage = z.infer<typeof agreementImageSchema>;

export const agreementReportSchema = z.object({
  plan: z.object({
    id: z.number().int(),
    name: z.string(),
    anonymousReaders: z.boolean(),
    threshold: z.number(),
    status: z.string(),
  }),
  method: consensusMethodSchema,
  readers: z.array(agreementReaderSchema),
  /** Mean Dice of each reader pair over the images both read (i, j index `readers`); null: none, or i = j. */
  matrix: z.array(z.array(fraction.nullable())),
  /** Images each pair both read. */
  pairImages: z.array(z.array(z.number().int().nonnegative())),
  images: z.array(agreementImageSchema),
  /** Chance-corrected agreement on negative/positive over the images every assigned reader read. */
  kappa: z.object({
    kind: z.enum(['cohen', 'fleiss']).nullable(),
    /** Null when undefined (fewer than two readers per image, or every call the same). */
    value: z.number().nullable(),
    images: z.number().int().nonnegative(),
  }),
  summary: z.object({
    images: z.number().int().nonnegative(),
    /** Images with at least two readings. */
    compared: z.number().int().nonnegative(),
    disputed: z.number().int().nonnegative(),
    meanDice: fraction.nullable(),
    /** Images whose consensus was stored by `consensus.run` for the current readings. */
    consensusStored: z.number().int().nonnegative(),
  }),
});
export type AgreementReport = z.infer<typeof agreementReportSchema>;

export const consensusRunInputSchema = z
  .object({
    planId: idSchema.optional(),
    method: consensusMethodSchema,
  })
  .strict();
export type ConsensusRunInput = z.input<typeof consensusRunInputSchema>;

export const consensusRunResultSchema = z.object({
  planId: z.number().int(),
  method: consensusMethodSchema,
  /** Images whose consensus was computed and stored. */
  stored: z.number().int().nonnegative(),
  /** Of those, images every reader left empty (consensus empty, probability 0). */
  allEmpty: z.number().int().nonnegative(),
  skipped: z.array(z.object({ imageId: z.number().int(), name: z.string(), reason: z.string() })),
});
export type ConsensusRunResult = z.infer<typeof consensusRunResultSchema>;
