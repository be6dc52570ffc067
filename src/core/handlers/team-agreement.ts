/** Handlers of team review's agreement and consensus (src/shared/contract-team-agreement.ts). */
import type { HandlerGroup } from './context';
import { planAgreement } from '../team/agreement';
import { runConsensus } from '../team/consensus';
import { findPlan } from '../team/plan-readings';

export const teamAgreementHandlers: HandlerGroup = {
  'team.agreement': (input, context) =>
    planAgreement(context.project().db, { planId: input.planId, method: input.method ?? 'staple' }),
  // One consensus run per plan and method at a time (both would write the same rows).
  'consensus.run': (input, context) => {
    const store = context.project();
    const plan = findPlan(store.db, input.planId);
    return context.jobs.startExclusive(
      `consensus:${store.dir}:${plan.id}:${input.method}`,
      `a ${input.method} consensus of plan ${plan.id}`,
      'consensus',
      () => (reporter) =>
        runConsensus(store.db, { planId: plan.id, method: input.method }, reporter),
    );
  },
};
