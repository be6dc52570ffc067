/**
 * Model versions on the host: `models/<version>/` holds the tfjs model (model.json + weights.bin),
 * `train-params.json` written when the run starts, `checkpoint/` while it trains, and `card.json`
 * once it has finished (a folder without a card is a run that can be resumed). The active version
 * is the project meta `active_model`; promotions are kept in `active_model_history` for roll back.
 */
import fs from 'node:fs';
import path from 'node:path';
import { z } from 'zod';
import { ApiError } from '../../shared/contract';
import {
  modelCardSchema,
  trainParamsSchema,
  type ModelCard,
  type ModelComparison,
  type ModelSummary,
  type TrainParams,
} from '../../shared/contract-ml';
import { processAlive } from '../project/lock';
import type { ProjectStore } from '../project/store';
import { describeInput, inputSize } from './external/config';
import { MODEL_FILE, WEIGHTS_FILE } from './model-io';
import { DamagedFileError, readCheckpointState, readJsonFile, writeFileAtomic } from './checkpoint';

export const CARD_FILE = 'card.json';
/** An external version's copy of its ONNX file. */
export const EXTERNAL_MODEL_FILE = 'model.onnx';
export const PARAMS_FILE = 'train-params.json';
const ACTIVE_KEY = 'active_model';
const HISTORY_KEY = 'active_model_history';
const VERSION_PATTERN = /^[A-Za-z0-9][A-Za-z0-9._-]{0,63}$/;

export interface RunRecord {
  version: string;
  createdAt: string;
  parent: string | null;
  params: TrainParams;
}

export function versionDir(store: ProjectStore, version: string): string {
  if (!VERSION_PATTERN.test(version))
    throw new ApiError('bad-request', `bad model version ${version}`);
  return path.join(store.modelsDir, version);
}

export function listVersionNames(store: ProjectStore): string[] {
  if (!fs.existsSync(store.modelsDir)) return [];
  const names = fs
    .readdirSync(store.modelsDir, { withFileTypes: true })
    .filter((entry) => entry.isDirectory() && VERSION_PATTERN.test(entry.name))
    .filter(
      (entry) =>
        fs.existsSync(path.join(store.modelsDir, entry.name, PARAMS_FILE)) ||
        fs.existsSync(path.join(store.modelsDir, entry.name, CARD_FILE)),
    )
    .map((entry) => entry.name);
  return names.sort((a, b) => a.localeCompare(b, 'en', { numeric: true }));
}

/** v1, v2, ...: one above the highest numbered version. */
export function nextVersion(store: ProjectStore): string {
  let highest = 0;
  if (fs.existsSync(store.modelsDir)) {
    for (const name of fs.readdirSync(store.modelsDir)) {
      const match = /^v(\d+)$/.exec(name);
      if (match) highest = Math.max(highest, Number(match[1]));
    }
  }
  return `v${highest + 1}`;
}

/** Claims the next free version folder atomically (two processes cannot get the same one). */
export function claimNextVersion(store: ProjectStore): string {
  fs.mkdirSync(store.modelsDir, { recursive: true });
  for (let attempt = 0; attempt < 1000; attempt++) {
    const version = nextVersion(store);
    try {
      fs.mkdirSync(path.join(store.modelsDir, version));
      return version;
    } catch (error) {
      if ((error as NodeJS.ErrnoException).code !== 'EEXIST') throw error;
    }
  }
  throw new ApiError('internal', 'could not claim a model version folder');
}

export const TRAIN_LOCK_FILE = 'train.lock';
const LOCK_FILE = TRAIN_LOCK_FILE;

/**
 * Marks a version as being trained by this process, so another process (a second CLI, the app)
 * cannot train or resume it at the same time. A lock left by a dead process is taken over.
 * Returns the release function.
 */
export function lockVersion(store: ProjectStore, version: string): () => void {
  const file = path.join(versionDir(store, version), LOCK_FILE);
  for (let attempt = 0; attempt < 3; attempt++) {
    try {
      const fd = fs.openSync(file, 'wx');
      fs.writeSync(fd, JSON.stringify({ pid: process.pid, since: new Date().toISOString() }));
      fs.closeSync(fd);
      return () => fs.rmSync(file, { force: true });
    } catch (error) {
      if ((error as NodeJS.ErrnoException).code !== 'EEXIST') throw error;
      let holder: number | null = null;
      try {
        holder = (JSON.parse(fs.readFileSync(file, 'utf8')) as { pid: number }).pid;
      } catch {
        holder = null;
      }
      if (holder !== null && holder !== process.pid && processAlive(holder)) {
        throw new ApiError('conflict', `model ${version} is being trained by process ${holder}`);
      }
      fs.rmSync(file, { force: true });
    }
  }
  throw new ApiError('conflict', `could not lock model ${version}`);
}

/** A version's card; null before its run has finished, DamagedFileError when unreadable. */
export function readCard(store: ProjectStore, version: string): ModelCard | null {
  const file = path.join(versionDir(store, version), CARD_FILE);
  if (!fs.existsSync(file)) return null;
  return readJsonFile(file, CARD_FILE, modelCardSchema);
}

/** Runs `read`, turning a damaged file of the version into the caller's 'conflict' error. */
export function orDamaged<T>(version: string, read: () => T): T {
  try {
    return read();
  } catch (error) {
    if (error instanceof DamagedFileError) {
      throw new ApiError('conflict', `model ${version} is damaged: ${error.message}`);
    }
    throw error;
  }
}

export function getCard(store: ProjectStore, version: string): ModelCard {
  const card = orDamaged(version, () => readCard(store, version));
  if (!card) {
    const exists = fs.existsSync(versionDir(store, version));
    throw new ApiError(
      exists ? 'conflict' : 'not-found',
      exists ? `model ${version} has not finished training (resume it)` : `no model ${version}`,
    );
  }
  return card;
}

function writeJson(file: string, value: unknown): void {
  writeFileAtomic(file, JSON.stringify(value, null, 2));
}

export function writeCard(store: ProjectStore, card: ModelCard): void {
  writeJson(path.join(versionDir(store, card.version), CARD_FILE), modelCardSchema.parse(card));
}

export function writeRunRecord(store: ProjectStore, record: RunRecord): void {
  const dir = versionDir(store, record.version);
  fs.mkdirSync(dir, { recursive: true });
  writeJson(path.join(dir, PARAMS_FILE), record);
}

const runRecordSchema = z.object({
  version: z.string(),
  createdAt: z.string(),
  parent: z.string().nullable(),
  params: trainParamsSchema,
});

export function readRunRecord(store: ProjectStore, version: string): RunRecord {
  const file = path.join(versionDir(store, version), PARAMS_FILE);
  if (!fs.existsSync(file)) throw new ApiError('not-found', `no training run ${version}`);
  return readJsonFile(file, PARAMS_FILE, runRecordSchema);
}

export function activeVersion(store: ProjectStore): string | null {
  return store.getMeta(ACTIVE_KEY);
}

/** Versions that were active before the current one, oldest first (roll back pops the last). */
export function activeHistory(store: ProjectStore): string[] {
  const raw = store.getMeta(HISTORY_KEY);
  return raw ? (JSON.parse(raw) as string[]) : [];
}

export function promote(store: ProjectStore, version: string): string {
  getCard(store, version);
  const current = activeVersion(store);
  if (current === version) return version;
  store.db.transaction(() => {
    if (current) store.setMeta(HISTORY_KEY, JSON.stringify([...activeHistory(store), current]));
    store.setMeta(ACTIVE_KEY, version);
  })();
  return version;
}

export interface PromotionShortfall {
  version: string;
  active: string;
  /** Mean test Dice of the version and of the active one, on the same locked test split. */
  dice: number;
  activeDice: number;
}

/**
 * How much worse `version` is than the active version on the locked test split, or null when it
 * is not worse (or the two were tested on different splits, where no figure compares them).
 */
export function promotionShortfall(
  store: ProjectStore,
  version: string,
): PromotionShortfall | null {
  const candidate = getCard(store, version);
  const current = activeVersion(store);
  if (!current || current === version) return null;
  const active = readCard(store, current);
  if (!active?.metrics.test || !candidate.metrics.test) return null;
  if (active.data.testSplitHash !== candidate.data.testSplitHash) return null;
  if (candidate.metrics.test.dice >= active.metrics.test.dice) return null;
  return {
    version,
    active: current,
    dice: candidate.metrics.test.dice,
    activeDice: active.metrics.test.dice,
  };
}

export function shortfallMessage(shortfall: PromotionShortfall): string {
  const by = shortfall.activeDice - shortfall.dice;
  return (
    `${shortfall.version} is worse than the active ${shortfall.active} on the locked test split ` +
    `by ${by.toFixed(4)} Dice (${shortfall.dice.toFixed(4)} against ${shortfall.activeDice.toFixed(4)})`
  );
}

/** The version `rollback` would make active again, or null when there is none. */
export function rollbackTargetOf(store: ProjectStore): string | null {
  return activeHistory(store).at(-1) ?? null;
}

/** Makes the previously active version active again. */
export function rollback(store: ProjectStore): string {
  const history = activeHistory(store);
  const previous = history.pop();
  if (!previous) throw new ApiError('conflict', 'no earlier active model to roll back to');
  getCard(store, previous);
  store.db.transaction(() => {
    store.setMeta(HISTORY_KEY, JSON.stringify(history));
    store.setMeta(ACTIVE_KEY, previous);
  })();
  return previous;
}

/** The version a request names, or the active one. */
export function resolveVersion(store: ProjectStore, version?: string | null): string {
  const chosen = version && version !== 'active' ? version : activeVersion(store);
  if (!chosen)
    throw new ApiError('conflict', 'no model version given and none is active: train one first');
  return chosen;
}

/** A version's line in models.list; a damaged version is listed as such, with why. */
export function summarise(store: ProjectStore, version: string): ModelSummary {
  const active = activeVersion(store) === version;
  const rollbackTarget = rollbackTargetOf(store) === version;
  try {
    return { ...summariseReadable(store, version, active), rollbackTarget };
  } catch (error) {
    if (!(error instanceof DamagedFileError)) throw error;
    return {
      version,
      state: 'damaged',
      damage: error.message,
      active,
      rollbackTarget,
      createdAt: null,
      parent: null,
      base: null,
      size: null,
      backend: null,
      epochs: null,
      epochsDone: 0,
      valDice: null,
      testDice: null,
    };
  }
}

function summariseReadable(store: ProjectStore, version: string, active: boolean): ModelSummary {
  const card = readCard(store, version);
  if (card) {
    const source = card.source;
    const external = source.kind === 'onnx' ? inputSize(source.config) : null;
    return {
      version,
      state: 'complete',
      active,
      createdAt: card.createdAt,
      parent: card.parent,
      base: card.architecture?.base ?? null,
      size:
        card.architecture?.size ?? (external && external[0] === external[1] ? external[0] : null),
      backend: card.backend,
      epochs: card.hyperParameters?.epochs ?? null,
      epochsDone: card.history.length,
      valDice: card.metrics.val?.dice ?? null,
      testDice: card.metrics.test?.dice ?? null,
      source: source.kind,
      origin: source.kind === 'trained' ? null : source.path,
      bytes: modelBytes(store, card),
      input: card.architecture
        ? `${card.architecture.size}x${card.architecture.size} ${card.input.mode}`
        : source.kind === 'onnx'
          ? describeInput(source.config)
          : null,
    };
  }
  const run = readRunRecord(store, version);
  const state = readCheckpointState(path.join(versionDir(store, version), 'checkpoint'));
  return {
    version,
    state: 'incomplete',
    active,
    createdAt: run.createdAt,
    parent: run.parent,
    base: run.params.base,
    size: run.params.size,
    backend: null,
    epochs: run.params.epochs,
    epochsDone: state?.epoch ?? 0,
    valDice: state?.bestValDice ?? null,
    testDice: null,
    source: 'trained',
    origin: null,
    bytes: null,
    input: `${run.params.size}x${run.params.size} ${run.params.inputMode}`,
  };
}

/** Bytes of the files that make a version's model (none for imported predictions). */
function modelBytes(store: ProjectStore, card: ModelCard): number | null {
  const dir = versionDir(store, card.version);
  const files =
    card.source.kind === 'onnx'
      ? [EXTERNAL_MODEL_FILE]
      : card.source.kind === 'trained'
        ? [MODEL_FILE, WEIGHTS_FILE]
        : [];
  if (files.length === 0) return null;
  let bytes = 0;
  for (const file of files) {
    try {
      bytes += fs.statSync(path.join(dir, file)).size;
    } catch {
      return null;
    }
  }
  return bytes;
}

/** Figures of two versions side by side; per test image, a win is b better than a. */
export function compareCards(a: ModelCard, b: ModelCard): ModelComparison {
  const figures = (metrics: { dice: number; iou: number } | null) =>
    metrics ? { dice: metrics.dice, iou: metrics.iou } : null;
  const byImage = new Map(a.testPerImage.map((score) => [score.imageId, score]));
  const perImage = b.testPerImage
    .filter((score) => byImage.has(score.imageId))
    .map((score) => {
      const before = byImage.get(score.imageId)!.dice;
      return {
        imageId: score.imageId,
        image: score.image,
        a: before,
        b: score.dice,
        delta: score.dice - before,
      };
    })
    .sort((x, y) => y.delta - x.delta);
  const margin = 0.001;
  return {
    a: a.version,
    b: b.version,
    sameTestSplit: a.data.testSplitHash === b.data.testSplitHash,
    splits: {
      val: { a: figures(a.metrics.val), b: figures(b.metrics.val) },
      test: { a: figures(a.metrics.test), b: figures(b.metrics.test) },
    },
    perImage,
    wins: perImage.filter((row) => row.delta > margin).length,
    losses: perImage.filter((row) => row.delta < -margin).length,
    ties: perImage.filter((row) => Math.abs(row.delta) <= margin).length,
  };
}
