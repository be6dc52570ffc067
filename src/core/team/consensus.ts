/**
 * Each image's consensus of a plan's readers, by STAPLE or majority vote (core/math/staple.ts),
 * stored through core/project/consensus.ts. `runConsensus` is the `consensus.run` job: progress
 * per image, cancel between images; an image with fewer than two readings is skipped.
 */
import type { ConsensusMethod, ConsensusRunResult } from '../../shared/agreement-schemas';
import { throwIfCancelled, type JobReporter } from '../job-reporter';
import { majorityVote, staple } from '../math/staple';
import {
  getConsensus,
  probabilityBytes,
  saveConsensus,
  type ConsensusReader,
} from '../project/consensus';
import type { Db } from '../project/store';
import { findPlan, imageReadings, planImages, yieldToLoop, type Reading } from './plan-readings';

export interface ComputedConsensus {
  /** Per pixel 0..255 as stored (a vote is 0/255). */
  probability: Uint8Array;
  /** The consensus label: 255 where the stored probability is ≥ 128 (p ≥ 0.5). */
  label: Uint8Array;
  readers: ConsensusReader[];
  allEmpty: boolean;
}

/** The consensus of two or more readings of one image (the same size). */
export function computeConsensus(readings: Reading[], method: ConsensusMethod): ComputedConsensus {
  const masks = readings.map((reading) => reading.mask);
  const allEmpty = readings.every((reading) => reading.area === 0);
  let probability: Uint8Array;
  let readers: ConsensusReader[];
  if (method === 'staple') {
    const result = staple(masks);
    probability = probabilityBytes(result.probability);
    readers = readings.map((reading, j) => ({
      userId: reading.userId,
      revisionId: reading.revisionId,
      sensitivity: result.sensitivity[j],
      specificity: result.specificity[j],
    }));
  } else {
    probability = majorityVote(masks);
    readers = readings.map((reading) => ({
      userId: reading.userId,
      revisionId: reading.revisionId,
      sensitivity: null,
      specificity: null,
    }));
  }
  const label = probability.map((value) => (value >= 128 ? 255 : 0));
  return { probability, label, readers, allEmpty };
}

/**
 * The consensus label of an image for the figures: the stored one when it combined exactly the
 * readings in force now, else computed here (not stored). Also says which it was.
 */
export async function consensusFor(
  db: Db,
  planId: number,
  imageId: number,
  method: ConsensusMethod,
  readings: Reading[],
): Promise<{ label: Uint8Array; stored: boolean }> {
  const stored = await getConsensus(db, planId, imageId, method);
  const current = new Set(readings.map((reading) => reading.revisionId));
  if (
    stored &&
    stored.readers.length === current.size &&
    stored.readers.every((reader) => current.has(reader.revisionId))
  ) {
    return { label: stored.probability.map((value) => (value >= 128 ? 255 : 0)), stored: true };
  }
  return { label: computeConsensus(readings, method).label, stored: false };
}

/** Computes and stores the consensus of every image of a plan with two or more readings. */
export async function runConsensus(
  db: Db,
  input: { planId?: number; method: ConsensusMethod },
  reporter: JobReporter,
): Promise<ConsensusRunResult> {
  const plan = findPlan(db, input.planId);
  const images = planImages(db, plan.id);
  const result: ConsensusRunResult = {
    planId: plan.id,
    method: input.method,
    stored: 0,
    allEmpty: 0,
    skipped: [],
  };
  reporter.progress({ phase: `consensus (${input.method})`, done: 0, total: images.length });
  for (const [index, image] of images.entries()) {
    throwIfCancelled(reporter.signal);
    const { readings, mismatched } = await imageReadings(db, plan.id, image.imageId);
    if (mismatched.length > 0) {
      result.skipped.push({
        imageId: image.imageId,
        name: image.name,
        reason: `the labels of ${mismatched.join(', ')} differ in size from the others`,
      });
    } else if (readings.length < 2) {
      result.skipped.push({
        imageId: image.imageId,
        name: image.name,
        reason: `${readings.length === 0 ? 'no reading' : 'one reading'} yet (a consensus needs two)`,
      });
    } else {
      const consensus = computeConsensus(readings, input.method);
      await saveConsensus(db, {
        planId: plan.id,
        imageId: image.imageId,
        method: input.method,
        probability: consensus.probability,
        width: readings[0].width,
        height: readings[0].height,
        readers: consensus.readers,
      });
      result.stored++;
      if (consensus.allEmpty) result.allEmpty++;
    }
    reporter.progress({ done: index + 1, total: images.length });
    await yieldToLoop();
  }
  return result;
}
