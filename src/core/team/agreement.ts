/**
 * A reading plan's agreement figures (`team.agreement`): per image the readers' pairwise Dice
 * (two empty labels agree, Dice 1, and are counted as such) and their negative/positive calls;
 * per reader pair the mean Dice over the images both read; per reader Dice, sensitivity and
 * specificity against the consensus (the stored one when it is current, else computed); and
 * Cohen's kappa (a plan of two readers) or Fleiss' kappa on negative/positive over the images
 * every assigned reader has read.
 */
import type {
  AgreementImage,
  AgreementReader,
  AgreementReport,
  ConsensusMethod,
} from '../../shared/agreement-schemas';
import { cohenKappa, confusion, dice, fleissKappa } from '../math/agreement';
import type { Db } from '../project/store';
import { consensusFor } from './consensus';
import {
  findPlan,
  imageReadings,
  planImages,
  planReaders,
  yieldToLoop,
  type PlanInfo,
  type PlanReader,
} from './plan-readings';

interface ReaderTally {
  read: number;
  positive: number;
  diceSum: number;
  consensusImages: number;
  truePositive: number;
  falseNegative: number;
  trueNegative: number;
  falsePositive: number;
}

function ratio(numerator: number, denominator: number): number | null {
  return denominator > 0 ? numerator / denominator : null;
}

/** Kappa on negative/positive over the images every assigned reader read (calls by reader index). */
function planKappa(
  readers: PlanReader[],
  calls: { assigned: number; byReader: Map<number, boolean> }[],
): AgreementReport['kappa'] {
  const complete = calls.filter(
    (call) => call.assigned >= 2 && call.byReader.size === call.assigned,
  );
  if (readers.length === 2) {
    const both = complete.filter((call) => call.byReader.size === 2);
    return {
      kind: 'cohen',
      value: cohenKappa(
        both.map((call) => call.byReader.get(0) === true),
        both.map((call) => call.byReader.get(1) === true),
      ),
      images: both.length,
    };
  }
  // Fleiss needs one number of readers per image: the most common among the complete images.
  const counts = new Map<number, number>();
  for (const call of complete) counts.set(call.assigned, (counts.get(call.assigned) ?? 0) + 1);
  const modal = [...counts.entries()].sort((x, y) => y[1] - x[1] || y[0] - x[0])[0]?.[0];
  if (modal === undefined)
    return { kind: readers.length > 2 ? 'fleiss' : null, value: null, images: 0 };
  const items = complete
    .filter((call) => call.assigned === modal)
    .map((call) => {
      const positive = [...call.byReader.values()].filter(Boolean).length;
      return [call.assigned - positive, positive] as [number, number];
    });
  return { kind: 'fleiss', value: fleissKappa(items), images: items.length };
}

/** The figures of plan `planId` (default: the latest active plan) against `method`'s consensus. */
export async function planAgreement(
  db: Db,
  input: { planId?: number; method: ConsensusMethod },
): Promise<AgreementReport> {
  const plan: PlanInfo = findPlan(db, input.planId);
  const readers = planReaders(db, plan.id);
  const indexOf = new Map(readers.map((reader, index) => [reader.userId, index]));
  const n = readers.length;
  const pairSum = Array.from({ length: n }, () => new Array<number>(n).fill(0));
  const pairCount = Array.from({ length: n }, () => new Array<number>(n).fill(0));
  const tallies: ReaderTally[] = readers.map(() => ({
    read: 0,
    positive: 0,
    diceSum: 0,
    consensusImages: 0,
    truePositive: 0,
    falseNegative: 0,
    trueNegative: 0,
    falsePositive: 0,
  }));
  const images: AgreementImage[] = [];
  const calls: { assigned: number; byReader: Map<number, boolean> }[] = [];
  let consensusStored = 0;

  for (const image of planImages(db, plan.id)) {
    const { readings } = await imageReadings(db, plan.id, image.imageId);
    const index = readings.map((reading) => indexOf.get(reading.userId) ?? -1);
    const byReader = new Map<number, boolean>();
    readings.forEach((reading, k) => {
      const tally = tallies[index[k]];
      tally.read++;
      if (reading.area > 0) tally.positive++;
      byReader.set(index[k], reading.area > 0);
    });
    calls.push({ assigned: image.assigned, byReader });

    const pairs: AgreementImage['pairs'] = [];
    for (let x = 0; x < readings.length; x++) {
      for (let y = x + 1; y < readings.length; y++) {
        const figure = dice(readings[x].mask, readings[y].mask);
        const [a, b] = index[x] < index[y] ? [index[x], index[y]] : [index[y], index[x]];
        pairs.push({ a, b, dice: figure.dice, bothEmpty: figure.bothEmpty });
        pairSum[a][b] += figure.dice;
        pairSum[b][a] += figure.dice;
        pairCount[a][b]++;
        pairCount[b][a]++;
      }
    }
    const positive = readings.filter((reading) => reading.area > 0).length;
    const negative = readings.length - positive;
    const meanDice =
      pairs.length > 0 ? pairs.reduce((sum, pair) => sum + pair.dice, 0) / pairs.length : null;
    const split = positive > 0 && negative > 0;
    images.push({
      imageId: image.imageId,
      name: image.name,
      assigned: image.assigned,
      read: readings.length,
      pairs,
      meanDice,
      bothEmptyPairs: pairs.filter((pair) => pair.bothEmpty).length,
      positive,
      negative,
      split,
      disputed: meanDice !== null && (meanDice < plan.threshold || split),
    });

    if (readings.length >= 2) {
      const consensus = await consensusFor(db, plan.id, image.imageId, input.method, readings);
      if (consensus.stored) consensusStored++;
      readings.forEach((reading, k) => {
        const tally = tallies[index[k]];
        const counts = confusion(reading.mask, consensus.label);
        tally.consensusImages++;
        tally.diceSum += dice(reading.mask, consensus.label).dice;
        tally.truePositive += counts.truePositive;
        tally.falseNegative += counts.falseNegative;
        tally.trueNegative += counts.trueNegative;
        tally.falsePositive += counts.falsePositive;
      });
    }
    await yieldToLoop();
  }

  const readerRows: AgreementReader[] = readers.map((reader, index) => {
    const tally = tallies[index];
    return {
      label: plan.anonymousReaders ? `Reader ${index + 1}` : reader.name,
      userId: plan.anonymousReaders ? null : reader.userId,
      assigned: reader.assigned,
      read: tally.read,
      positive: tally.positive,
      dice: ratio(tally.diceSum, tally.consensusImages),
      sensitivity: ratio(tally.truePositive, tally.truePositive + tally.falseNegative),
      specificity: ratio(tally.trueNegative, tally.trueNegative + tally.falsePositive),
      consensusImages: tally.consensusImages,
    };
  });
  const compared = images.filter((image) => image.meanDice !== null);
  return {
    plan,
    method: input.method,
    readers: readerRows,
    matrix: pairSum.map((row, a) =>
      row.map((sum, b) => (a === b ? null : ratio(sum, pairCount[a][b]))),
    ),
    pairImages: pairCount,
    images,
    kappa: planKappa(readers, calls),
    summary: {
      images: images.length,
      compared: compared.length,
      disputed: images.filter((image) => image.disputed).length,
      meanDice: ratio(
        compared.reduce((sum, image) => sum + (image.meanDice ?? 0), 0),
        compared.length,
      ),
      consensusStored,
    },
  };
}
