/**
 * Contract entries of team review's agreement and consensus (src/core/team/agreement.ts,
 * consensus.ts), spread into `methods` of ./contract.ts. Roles: admin, adjudicator, researcher.
 * Its schemas live in ./agreement-schemas, which anyone may import directly.
 */
import { z } from 'zod';
import { jobSchema } from './common-schemas';
import {
  agreementInputSchema,
  agreementReportSchema,
  consensusRunInputSchema,
} from './agreement-schemas';

export * from './agreement-schemas';

export const teamAgreementMethods = {
  /**
   * A plan's agreement figures: per image pairwise Dice and the negative/positive calls, the
   * reader-pair mean Dice matrix, each reader against the consensus, and kappa.
   */
  'team.agreement': { input: agreementInputSchema, output: agreementReportSchema },
  /**
   * Computes and stores each image's consensus (STAPLE or majority vote) of a plan as a job:
   * progress as `job.updated`, cancel with `jobs.cancel`; the result is a ConsensusRunResult.
   */
  'consensus.run': {
    input: consensusRunInputSchema,
    // Lazy: ./contract spreads this table, so its schemas exist only once it has finished loading.
    output: z.lazy(() => jobSchema),
  },
} as const;
