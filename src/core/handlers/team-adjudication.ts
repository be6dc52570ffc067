/**
 * Handlers of adjudication (src/shared/contract-team-adjudication.ts) and the team media kinds
 * `reading` (a reader's label revision) and `consensus` (an image's consensus probability map,
 * `?plan=ID&method=staple|vote`). Readers never reach either: the blind rule keeps other readers'
 * labels and the figures from them.
 */
import { ApiError } from '../../shared/contract';
import {
  adjudicationImage,
  adjudicationQueue,
  ADJUDICATION_ROLES,
  assertRole,
  decideAdjudication,
  TEAM_LABEL_VIEWER_ROLES,
} from '../team/adjudication';
import { getConsensus } from '../project/consensus';
import { encodeGray8 } from '../project/mask-png';
import type { HandlerGroup } from './context';
import { registerMediaResolver } from './media';

export const adjudicationHandlers: HandlerGroup = {
  'adjudication.queue': (input, context, caller) => {
    assertRole(caller, ADJUDICATION_ROLES, 'adjudication');
    return adjudicationQueue(context.project().db, input ?? {});
  },
  'adjudication.get': (input, context, caller) => {
    assertRole(caller, ADJUDICATION_ROLES, 'adjudication');
    return adjudicationImage(context.project().db, input.planId, input.imageId);
  },
  'adjudication.decide': async (input, context, caller) => {
    assertRole(caller, ADJUDICATION_ROLES, 'adjudication');
    const decision = await decideAdjudication(context.project(), input, caller);
    context.emit('images.changed', { reason: 'mask', imageIds: [input.imageId] }, caller);
    return decision;
  },
};

// The `reading` media kind (a reader's revision) is served by ./media-resolvers.ts under the
// blind rule: a reader gets only their own, the adjudicator's roles any.
registerMediaResolver('consensus', async (context, id, query, caller) => {
  assertRole(caller, TEAM_LABEL_VIEWER_ROLES, 'a consensus map');
  const plan = Number(query.get('plan'));
  const method = query.get('method');
  if (!Number.isInteger(plan) || plan <= 0 || (method !== 'staple' && method !== 'vote')) {
    throw new ApiError('bad-request', 'a consensus map needs ?plan=ID&method=staple|vote');
  }
  const stored = await getConsensus(context.project().db, plan, id, method);
  if (!stored)
    throw new ApiError('not-found', `no ${method} consensus of image ${id} in plan ${plan}`);
  // A consensus is computed again when readers change their labels: not immutable.
  const body = await encodeGray8(stored.probability, stored.width, stored.height);
  return { contentType: 'image/png', body, immutable: false };
});
