/**
 * Which roles may call each contract method, checked by Service.call for signed-in team members
 * (the project's owner may call everything). Every method of the contract has an entry: a test
 * fails when one is missing, so a new method is refused to everyone until it is placed here.
 *
 * What a role may see of an image beyond this table (the blind rule) is decided by the methods
 * themselves and the media resolvers (media.ts here until core/team/visibility.ts lands).
 */
import { ApiError, type MediaKind, type MethodName } from '../../shared/contract';
import type { Role } from '../../shared/team-schemas';
import type { Caller } from './caller';

const everyone: readonly Role[] = ['reader', 'adjudicator', 'researcher', 'admin'];
/** Sees every label and figure of the project (not a blind reader). */
const seesLabels: readonly Role[] = ['adjudicator', 'researcher', 'admin'];
/** Trains, promotes, exports, imports. */
const research: readonly Role[] = ['researcher', 'admin'];
const admin: readonly Role[] = ['admin'];
const adjudicate: readonly Role[] = ['adjudicator', 'admin'];

export const methodRoles: Record<MethodName, readonly Role[]> = {
  'app.info': everyone,
  'project.state': everyone,
  'worker.status': everyone,
  'worker.restart': research,
  'jobs.list': everyone,
  'jobs.cancel': research,
  'system.pickFolder': research,
  'dataset.import': research,
  'dataset.list': research,
  'train.start': research,
  'train.resume': research,
  'train.estimate': research,
  'predict.start': research,
  'evaluate.run': research,
  'models.list': seesLabels,
  'models.get': seesLabels,
  'models.promote': research,
  'models.rollback': research,
  'models.compare': seesLabels,
  'changes.start': research,
  // The worklist and the image itself; what a reader sees of its labels is the blind rule's.
  'images.list': everyone,
  'images.get': everyone,
  'images.facets': everyone,
  'images.display': everyone,
  'masks.history': seesLabels,
  // The label in force (the adjudicator writes the final label through it); a reader's calls
  // write their own reading instead (core/team/visibility.ts).
  'masks.save': everyone,
  'masks.undo': everyone,
  'masks.redo': everyone,
  'review.set': everyone,
  'images.metrics': seesLabels,
  'export.plan': research,
  'export.start': research,
  'export.segmentLabel': research,
  'export.setSegmentLabel': research,
  'models.exportOnnx': research,
  'models.inspectOnnx': research,
  'models.add': research,
  'predictions.import': research,
  'pacs.list': research,
  'pacs.add': admin,
  'pacs.remove': admin,
  'pacs.allow': admin,
  'plans.create': admin,
  'plans.close': admin,
  'plans.list': seesLabels,
  'plans.get': seesLabels,
  'team.agreement': seesLabels,
  'consensus.run': seesLabels,
  'adjudication.queue': adjudicate,
  'adjudication.get': adjudicate,
  'adjudication.decide': adjudicate,
  'pacs.echo': research,
  'pacs.search': research,
  'pacs.retrieve': research,
  'pacs.send': research,
  'auth.me': everyone,
  'users.list': admin,
  'users.add': admin,
  'users.disable': admin,
  'users.reset': admin,
  'audit.list': admin,
};

export function mayCall(caller: Caller, method: MethodName): boolean {
  if (caller.kind === 'owner') return true;
  const roles = methodRoles[method] as readonly Role[] | undefined;
  return roles !== undefined && roles.includes(caller.role);
}

/** ApiError 'forbidden' (403) unless the caller's role may call the method. */
export function assertMayCall(caller: Caller, method: MethodName): void {
  if (mayCall(caller, method)) return;
  const roles = methodRoles[method] as readonly Role[] | undefined;
  throw new ApiError(
    'forbidden',
    caller.kind === 'user'
      ? `${method} is not for the ${caller.role} role${roles?.length ? ` (it is for: ${roles.join(', ')})` : ''}`
      : `${method} is not allowed`,
  );
}

/**
 * Media by kind: images and thumbnails for every role; mask revisions (ground truth, corrections,
 * predictions) only for roles that see labels. A reader's own readings reach them through the
 * reading methods and core/team/visibility.ts (team-read).
 */
export const mediaRoles: Record<MediaKind, readonly Role[]> = {
  image: everyone,
  thumbnail: everyone,
  // What a reader gets of these is narrowed per id by core/team/visibility.ts (their own
  // readings; predictions once revealed; no ground truth in a blind plan).
  mask: everyone,
  reading: everyone,
  consensus: seesLabels,
};

export function assertMaySeeMedia(caller: Caller, kind: MediaKind): void {
  if (caller.kind === 'owner' || mediaRoles[kind].includes(caller.role)) return;
  throw new ApiError('forbidden', `${kind} media are not for the ${caller.role} role`);
}
