/**
 * Schemas of adjudication (team review, issue 23): the queue of disputed images, what the
 * adjudicator sees of one image, and the decision. Imports nothing from ./contract.
 */
import { z } from 'zod';
import { idSchema } from './schema-helpers';

export const consensusMethodSchema = z.enum(['staple', 'vote']);
export type ConsensusMethodName = z.infer<typeof consensusMethodSchema>;

/** Why an image is disputed: readers' mean pairwise Dice below the plan's threshold, or a split. */
export const disputeSchema = z.object({
  /** Mean pairwise Dice of the readers' labels (two empty labels count as 1). */
  meanDice: z.number(),
  threshold: z.number(),
  /** Some readers found a lesion, others none. */
  split: z.boolean(),
  /** Readers who found a lesion, of all who read. */
  positive: z.number().int().nonnegative(),
  readers: z.number().int().nonnegative(),
});
export type Dispute = z.infer<typeof disputeSchema>;

export const adjudicationDecisionSchema = z.object({
  /** 'reader:NAME' | 'consensus:staple' | 'consensus:vote' | 'edited' ('reader n' when anonymous). */
  basis: z.string(),
  decidedBy: z.string(),
  decidedAt: z.string(),
  /** The correction (mask revision) that became the label in force. */
  revisionId: idSchema,
});
export type AdjudicationDecision = z.infer<typeof adjudicationDecisionSchema>;

export const adjudicationQueueItemSchema = z.object({
  planId: idSchema,
  planName: z.string(),
  imageId: idSchema,
  image: z.string(),
  ...disputeSchema.shape,
  /** The newest decision on this image in this plan, or null (still to adjudicate). */
  decision: adjudicationDecisionSchema.nullable(),
});
export type AdjudicationQueueItem = z.infer<typeof adjudicationQueueItemSchema>;

export const adjudicationQueueInputSchema = z
  .object({
    /** One plan (default: every plan). */
    planId: idSchema.optional(),
    /** Also list images already decided (default: only those still to adjudicate). */
    includeDecided: z.boolean().optional(),
  })
  .optional();

export const adjudicationReaderSchema = z.object({
  /** 1..n in the order the view shows them (keys 1..9). */
  index: z.number().int().positive(),
  /** The reader's name, or "Reader n" when the plan keeps readers anonymous to the adjudicator. */
  name: z.string(),
  /** Their label: `mediaUrl('reading', revisionId)`. */
  revisionId: idSchema,
  area: z.number().int().nonnegative(),
});
export type AdjudicationReader = z.infer<typeof adjudicationReaderSchema>;

export const adjudicationImageSchema = z.object({
  planId: idSchema,
  planName: z.string(),
  imageId: idSchema,
  image: z.string(),
  width: z.number().int(),
  height: z.number().int(),
  anonymous: z.boolean(),
  readers: z.array(adjudicationReaderSchema),
  dispute: disputeSchema.nullable(),
  /**
   * Stored consensus methods of this image in this plan (its probability map:
   * `mediaUrl('consensus', imageId, { plan, method })`); empty when none was computed.
   */
  consensus: z.array(consensusMethodSchema),
  /** The label in force now (a mask revision), to compare with. */
  labelRevisionId: idSchema.nullable(),
  decision: adjudicationDecisionSchema.nullable(),
});
export type AdjudicationImage = z.infer<typeof adjudicationImageSchema>;

export const adjudicationBasisSchema = z.discriminatedUnion('kind', [
  /** One reader's label as it is (their head's revision id, as `adjudication.get` listed it). */
  z.object({ kind: z.literal('reader'), revisionId: idSchema }),
  /** The stored consensus (probability >= 0.5). */
  z.object({ kind: z.literal('consensus'), method: consensusMethodSchema }),
  /** A mask the adjudicator drew or edited: base64 PNG, any value > 0 is lesion. */
  z.object({
    kind: z.literal('edited'),
    png: z
      .string()
      .min(1)
      .max(64 * 1024 * 1024),
  }),
]);
export type AdjudicationBasis = z.infer<typeof adjudicationBasisSchema>;

export const adjudicationDecideInputSchema = z.object({
  planId: idSchema,
  imageId: idSchema,
  basis: adjudicationBasisSchema,
});
