/**
 * Contract entries of team review's reading plans (src/core/team/plans.ts), spread into `methods`
 * of ./contract.ts: which images a team reads, by whom, blind or open, and how far they are.
 *
 * Readers are the team's enabled users of role 'reader'; adjudicators and the other roles do not
 * read in a plan (the adjudicator decides what the readers disagree on).
 */
import { z } from 'zod';
import { imageFilterSchema, splitSchema } from './contract-review';
import { idSchema, noInput } from './schema-helpers';

/** Which images a plan reads: all of them, one split, or the worklist's filter. */
export const planSelectionSchema = z.discriminatedUnion('kind', [
  z.object({ kind: z.literal('all') }),
  z.object({ kind: z.literal('split'), split: splitSchema }),
  z.object({ kind: z.literal('filter'), filter: imageFilterSchema }),
]);
export type PlanSelection = z.infer<typeof planSelectionSchema>;

export const planCreateInputSchema = z.object({
  name: z.string().trim().min(1).max(200).optional(),
  selection: planSelectionSchema.default({ kind: 'all' }),
  /** 'all': every reader reads every image; K: K readers per image, balanced across the team. */
  readersPerImage: z
    .union([z.literal('all'), z.number().int().positive().max(1000)])
    .default('all'),
  /** A reader never sees other readers' labels, states or figures, nor the ground truth. */
  blind: z.boolean().default(true),
  /** The model's prediction is shown to a reader only after their first save of the image. */
  revealAfter: z.boolean().default(false),
  /** Reader names hidden from the adjudicator. */
  anonymousReaders: z.boolean().default(false),
  /** Mean pairwise Dice below this sends an image to adjudication. */
  disagreementThreshold: z.number().min(0).max(1).default(0.7),
});
export type PlanCreateInput = z.input<typeof planCreateInputSchema>;

export const planReaderProgressSchema = z.object({
  userId: idSchema,
  name: z.string(),
  assigned: z.number().int().nonnegative(),
  /** Images with the reader's label in force (an empty label, "no lesion", counts). */
  read: z.number().int().nonnegative(),
});
export type PlanReaderProgress = z.infer<typeof planReaderProgressSchema>;

export const planSummarySchema = z.object({
  id: idSchema,
  name: z.string(),
  selection: planSelectionSchema,
  /** null: every reader of the team reads every image. */
  readersPerImage: z.number().int().positive().nullable(),
  blind: z.boolean(),
  revealAfter: z.boolean(),
  anonymousReaders: z.boolean(),
  disagreementThreshold: z.number(),
  status: z.enum(['active', 'closed']),
  createdBy: z.string(),
  createdAt: z.string(),
  images: z.number().int().nonnegative(),
  /** Assignments (image x reader) and how many of them are read. */
  assignments: z.number().int().nonnegative(),
  read: z.number().int().nonnegative(),
});
export type PlanSummary = z.infer<typeof planSummarySchema>;

export const planDetailSchema = planSummarySchema.extend({
  readers: z.array(planReaderProgressSchema),
  /** Every image of the plan, its readers and how many have read it. */
  imageIds: z.array(idSchema),
});
export type PlanDetail = z.infer<typeof planDetailSchema>;

const planIdInput = z.object({ id: idSchema });

export const teamPlanMethods = {
  /** Creates a reading plan and assigns its images (admin). */
  'plans.create': { input: planCreateInputSchema, output: planDetailSchema },
  /** Every plan, newest first, with its progress. */
  'plans.list': { input: noInput, output: z.array(planSummarySchema) },
  /** One plan with each reader's progress. */
  'plans.get': { input: planIdInput, output: planDetailSchema },
  /** Closes a plan: its readers' queues drop it; what they read stays. */
  'plans.close': { input: planIdInput, output: planDetailSchema },
} as const;
