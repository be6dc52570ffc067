/**
 * Contract entries of adjudication (team review), spread into `methods` of ./contract.ts.
 * Roles: adjudicator and admin (the project's owner: everything).
 */
import {
  adjudicationDecideInputSchema,
  adjudicationDecisionSchema,
  adjudicationImageSchema,
  adjudicationQueueInputSchema,
  adjudicationQueueItemSchema,
} from './adjudication-schemas';
import { idSchema } from './schema-helpers';
import { z } from 'zod';

export * from './adjudication-schemas';

export const adjudicationMethods = {
  /**
   * Images whose readers disagree: every assigned reader has read it (two or more), and their
   * mean pairwise Dice is below the plan's threshold or some found a lesion and others none.
   */
  'adjudication.queue': {
    input: adjudicationQueueInputSchema,
    output: z.array(adjudicationQueueItemSchema),
  },
  /** Every reader's label of one image (names unless the plan is anonymous), the consensus. */
  'adjudication.get': {
    input: z.object({ planId: idSchema, imageId: idSchema }),
    output: adjudicationImageSchema,
  },
  /**
   * Makes the chosen label the image's final label: a correction (the label in force) authored
   * `adjudicated by NAME`, and the decision recorded. Ground truth and reader labels never change.
   */
  'adjudication.decide': {
    input: adjudicationDecideInputSchema,
    output: adjudicationDecisionSchema,
  },
} as const;
