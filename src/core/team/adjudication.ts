/**
 * Adjudication (team review, issue 23): the images of a plan whose readers disagree, what the
 * adjudicator sees of one, and the decision that makes a label final.
 *
 * The final label is written as a correction through masks.ts (so training, evaluation, export
 * and the Dice figures see it as the label in force, unchanged), authored `adjudicated by NAME`,
 * with a row in `adjudications` saying who decided, when and on what basis. Reader labels
 * (reading_revisions) and the ground truth are never written here.
 */
import { ApiError } from '../../shared/contract';
import type {
  AdjudicationBasis,
  AdjudicationDecision,
  AdjudicationImage,
  AdjudicationQueueItem,
  ConsensusMethodName,
  Dispute,
} from '../../shared/adjudication-schemas';
import type { Role } from '../../shared/team-schemas';
import { dice } from '../math/agreement';
import { consensusMask, getConsensus } from '../project/consensus';
import { getImage, type ImageRecord } from '../project/images';
import { addCorrection, labelRevisionId, refreshPredictionDiceAfterCommit } from '../project/masks';
import { countForeground, decodeRequestMask, encodeGray8 } from '../project/mask-png';
import { readerHeads, readingMask, type ReaderHead } from '../project/readings';
import { statement, type Db, type ProjectStore } from '../project/store';
import { callerName, type Caller } from './caller';

/** Who may adjudicate (the owner may do anything). */
export const ADJUDICATION_ROLES: readonly Role[] = ['adjudicator', 'admin'];
/** Who may see reader labels and consensus maps as media: never a reader. */
export const TEAM_LABEL_VIEWER_ROLES: readonly Role[] = ['adjudicator', 'admin', 'researcher'];

export function assertRole(caller: Caller, roles: readonly Role[], what: string): void {
  if (caller.kind === 'owner' || roles.includes(caller.role)) return;
  throw new ApiError('forbidden', `${what} is for ${roles.join(' or ')} roles, not ${caller.role}`);
}

interface PlanRow {
  id: number;
  name: string;
  anonymous: number;
  threshold: number;
}

function getPlan(db: Db, planId: number): PlanRow {
  const plan = statement(
    db,
    `SELECT id, name, anonymous_readers AS anonymous, disagreement_threshold AS threshold
       FROM reading_plans WHERE id = ?`,
  ).get(planId) as PlanRow | undefined;
  if (!plan) throw new ApiError('not-found', `no reading plan ${planId}`);
  return plan;
}

// ---------------------------------------------------------------------------------------------
// Disputes

/** Mean pairwise Dice and the negative/positive split of readers' labels; keyed by their heads. */
const disputeCache = new Map<string, Omit<Dispute, 'threshold'>>();
const DISPUTE_CACHE_LIMIT = 5000;

async function measureHeads(db: Db, heads: ReaderHead[]): Promise<Omit<Dispute, 'threshold'>> {
  const key = `${db.name}:${heads.map((head) => head.revisionId).join(',')}`;
  const known = disputeCache.get(key);
  if (known) return known;
  const masks = await Promise.all(heads.map((head) => readingMask(db, head.revisionId)));
  let sum = 0;
  let pairs = 0;
  for (let i = 0; i < masks.length; i++) {
    for (let j = i + 1; j < masks.length; j++) {
      sum += dice(masks[i], masks[j]).dice;
      pairs++;
    }
  }
  const positive = heads.filter((head) => head.area > 0).length;
  const figures = {
    meanDice: pairs === 0 ? 1 : sum / pairs,
    split: positive > 0 && positive < heads.length,
    positive,
    readers: heads.length,
  };
  disputeCache.set(key, figures);
  if (disputeCache.size > DISPUTE_CACHE_LIMIT) {
    const oldest = disputeCache.keys().next().value;
    if (oldest !== undefined) disputeCache.delete(oldest);
  }
  return figures;
}

/** Assigned readers of an image in a plan, and how many have a label. */
function assignmentCounts(db: Db, planId: number, imageId: number) {
  return statement(
    db,
    `SELECT COUNT(*) AS assigned, COUNT(head_id) AS read FROM plan_assignments
      WHERE plan_id = ? AND image_id = ?`,
  ).get(planId, imageId) as { assigned: number; read: number };
}

/**
 * The image's dispute figures once every assigned reader (two or more) has read it, else null.
 * Disputed when `meanDice < threshold` or `split`.
 */
export async function disputeOf(
  db: Db,
  plan: { id: number; threshold: number },
  imageId: number,
): Promise<Dispute | null> {
  const counts = assignmentCounts(db, plan.id, imageId);
  if (counts.assigned < 2 || counts.read < counts.assigned) return null;
  const heads = readerHeads(db, plan.id, imageId);
  return { ...(await measureHeads(db, heads)), threshold: plan.threshold };
}

export function isDisputed(dispute: Dispute): boolean {
  return dispute.split || dispute.meanDice < dispute.threshold;
}

function latestDecision(db: Db, planId: number, imageId: number): AdjudicationDecision | null {
  const row = statement(
    db,
    `SELECT a.basis, a.decided_at AS decidedAt, a.revision_id AS revisionId,
            COALESCE(u.name, 'owner') AS decidedBy
       FROM adjudications a LEFT JOIN users u ON u.id = a.user_id
      WHERE a.plan_id = ? AND a.image_id = ? ORDER BY a.id DESC LIMIT 1`,
  ).get(planId, imageId) as AdjudicationDecision | undefined;
  return row ?? null;
}

/** The adjudication queue: disputed images of one plan or all, oldest plan and image first. */
export async function adjudicationQueue(
  db: Db,
  options: { planId?: number; includeDecided?: boolean } = {},
): Promise<AdjudicationQueueItem[]> {
  const plans = (
    options.planId !== undefined
      ? [getPlan(db, options.planId)]
      : (statement(
          db,
          `SELECT id, name, anonymous_readers AS anonymous, disagreement_threshold AS threshold
             FROM reading_plans ORDER BY id`,
        ).all() as PlanRow[])
  ) satisfies PlanRow[];
  const items: AdjudicationQueueItem[] = [];
  for (const plan of plans) {
    const imageIds = (
      statement(
        db,
        `SELECT image_id AS imageId FROM plan_assignments WHERE plan_id = ?
          GROUP BY image_id HAVING COUNT(*) >= 2 AND COUNT(head_id) = COUNT(*) ORDER BY image_id`,
      ).all(plan.id) as { imageId: number }[]
    ).map((row) => row.imageId);
    for (const imageId of imageIds) {
      const dispute = await disputeOf(db, plan, imageId);
      if (!dispute || !isDisputed(dispute)) continue;
      const decision = latestDecision(db, plan.id, imageId);
      if (decision && !options.includeDecided) continue;
      items.push({
        planId: plan.id,
        planName: plan.name,
        imageId,
        image: getImage(db, imageId).relPath,
        ...dispute,
        decision,
      });
    }
  }
  return items;
}

// ---------------------------------------------------------------------------------------------
// One image

const METHODS: ConsensusMethodName[] = ['staple', 'vote'];

async function storedMethods(db: Db, planId: number, imageId: number) {
  const stored: ConsensusMethodName[] = [];
  for (const method of METHODS) {
    if ((await getConsensus(db, planId, imageId, method)) !== null) stored.push(method);
  }
  return stored;
}

function assertInPlan(db: Db, planId: number, imageId: number): void {
  const row = statement(
    db,
    'SELECT 1 FROM plan_assignments WHERE plan_id = ? AND image_id = ? LIMIT 1',
  ).get(planId, imageId);
  if (!row) throw new ApiError('not-found', `image ${imageId} is not in reading plan ${planId}`);
}

/** What the adjudicator sees of an image: each reader's label (named unless anonymous). */
export async function adjudicationImage(
  db: Db,
  planId: number,
  imageId: number,
): Promise<AdjudicationImage> {
  const plan = getPlan(db, planId);
  const image = getImage(db, imageId);
  assertInPlan(db, planId, imageId);
  const heads = readerHeads(db, planId, imageId);
  const anonymous = plan.anonymous !== 0;
  return {
    planId,
    planName: plan.name,
    imageId,
    image: image.relPath,
    width: image.width,
    height: image.height,
    anonymous,
    readers: heads.map((head, i) => ({
      index: i + 1,
      name: anonymous ? `Reader ${i + 1}` : head.userName,
      revisionId: head.revisionId,
      area: head.area,
    })),
    dispute: await disputeOf(db, plan, imageId),
    consensus: await storedMethods(db, planId, imageId),
    labelRevisionId: labelRevisionId(image),
    decision: latestDecision(db, planId, imageId),
  };
}

// ---------------------------------------------------------------------------------------------
// The decision

async function basisMask(
  db: Db,
  image: ImageRecord,
  planId: number,
  basis: AdjudicationBasis,
): Promise<{ mask: Uint8Array; basis: string }> {
  if (basis.kind === 'reader') {
    const heads = readerHeads(db, planId, image.id);
    const index = heads.findIndex((head) => head.revisionId === basis.revisionId);
    if (index < 0) {
      throw new ApiError(
        'conflict',
        `revision ${basis.revisionId} is not a reader's current label of image ${image.id} in plan ${planId} (reload the image)`,
      );
    }
    // The table keeps the reader's name even when the adjudicator saw "Reader n" (admins audit it).
    return {
      mask: await readingMask(db, basis.revisionId),
      basis: `reader:${heads[index].userName}`,
    };
  }
  if (basis.kind === 'consensus') {
    const mask = await consensusMask(db, planId, image.id, basis.method);
    if (!mask) {
      throw new ApiError(
        'not-found',
        `no ${basis.method} consensus of image ${image.id} in plan ${planId} (compute it first)`,
      );
    }
    return { mask, basis: `consensus:${basis.method}` };
  }
  const decoded = await decodeRequestMask(basis.png, image);
  return { mask: decoded.data, basis: 'edited' };
}

/**
 * Writes the final label of an image in a plan: a correction (child of the head in force) authored
 * `adjudicated by NAME`, and the `adjudications` row, in one transaction.
 */
export async function decideAdjudication(
  store: ProjectStore,
  input: { planId: number; imageId: number; basis: AdjudicationBasis },
  caller: Caller,
): Promise<AdjudicationDecision> {
  const db = store.db;
  const plan = getPlan(db, input.planId);
  const image = getImage(db, input.imageId);
  assertInPlan(db, plan.id, image.id);
  const chosen = await basisMask(db, image, plan.id, input.basis);
  if (chosen.mask.length !== image.width * image.height) {
    throw new ApiError(
      'bad-request',
      `the chosen label has ${chosen.mask.length} pixels, image ${image.id} is ${image.width}x${image.height}`,
    );
  }
  const binary = new Uint8Array(chosen.mask.length);
  for (let i = 0; i < binary.length; i++) binary[i] = chosen.mask[i] > 0 ? 255 : 0;
  const png = await encodeGray8(binary, image.width, image.height);
  const decidedBy = callerName(caller);
  const decidedAt = new Date().toISOString();
  const revisionId = db.transaction(() => {
    const id = addCorrection(db, image.id, {
      png,
      width: image.width,
      height: image.height,
      foreground: countForeground(binary),
      author: `adjudicated by ${decidedBy}`,
      reviewState: 'corrected',
    });
    statement(
      db,
      `INSERT INTO adjudications (plan_id, image_id, user_id, decided_at, basis, revision_id)
       VALUES (?, ?, ?, ?, ?, ?)`,
    ).run(
      plan.id,
      image.id,
      caller.kind === 'user' ? caller.userId : null,
      decidedAt,
      chosen.basis,
      id,
    );
    return id;
  })();
  await refreshPredictionDiceAfterCommit(db, image.id);
  return { basis: chosen.basis, decidedBy, decidedAt, revisionId };
}
