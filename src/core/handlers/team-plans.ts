/** Handlers of team review's reading plans (src/shared/contract-team-plans.ts). */
import type { HandlerGroup } from './context';
import { activeModel } from '../project/review';
import { closePlan, createPlan, getPlan, listPlans } from '../team/plans';

export const teamPlanHandlers: HandlerGroup = {
  'plans.create': (input, context, caller) => {
    const store = context.project();
    const plan = createPlan(store.db, input, caller, activeModel(store));
    context.emit('images.changed', { reason: 'review' }, caller);
    return plan;
  },
  'plans.list': (_input, context) => listPlans(context.project().db),
  'plans.get': (input, context) => getPlan(context.project().db, input.id),
  'plans.close': (input, context, caller) => {
    const plan = closePlan(context.project().db, input.id, caller);
    context.emit('images.changed', { reason: 'review' }, caller);
    return plan;
  },
};
