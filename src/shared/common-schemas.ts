/**
 * Schemas the whole contract shares (jobs, the ML ladder, the worker's and the project's state,
 * the app's facts). A leaf: contract.ts and every contract-*.ts import it, it imports none of them.
 */
import { z } from 'zod';

/** The ML runtimes, in the ladder's order: the first that starts is used (core/ml/backends.ts). */
export const backendNameSchema = z.enum([
  'tensorflow-gpu',
  'onnxruntime-cuda',
  'onnxruntime-directml',
  'onnxruntime-coreml',
  'tensorflow',
  'onnxruntime',
  'wasm',
  'cpu',
]);
export type BackendName = z.infer<typeof backendNameSchema>;

export const backendChoiceSchema = z.enum(['auto', ...backendNameSchema.options]);
export type BackendChoice = z.infer<typeof backendChoiceSchema>;

/** One rung of the ML runtime ladder, with why it was taken or skipped. */
export const ladderStepSchema = z.object({
  backend: backendNameSchema,
  status: z.enum(['loaded', 'failed', 'skipped', 'not-tried']),
  reason: z.string(),
});
export type LadderStep = z.infer<typeof ladderStepSchema>;

export const workerStatusSchema = z.object({
  state: z.enum(['stopped', 'starting', 'ready', 'crashed']),
  backend: backendNameSchema.nullable(),
  ladder: z.array(ladderStepSchema),
  /** Set after a crash: what the host saw (exit code, signal, message). */
  lastError: z.string().nullable(),
  restarts: z.number().int().nonnegative(),
});
export type WorkerStatus = z.infer<typeof workerStatusSchema>;

export const appInfoSchema = z.object({
  name: z.string(),
  version: z.string(),
  transport: z.enum(['electron', 'http']),
  node: z.string(),
  electron: z.string().nullable(),
  platform: z.string(),
});
export type AppInfo = z.infer<typeof appInfoSchema>;

export const projectStateSchema = z.object({
  /** Absolute folder of the open project, or null before one is opened. */
  projectDir: z.string().nullable(),
  name: z.string().nullable(),
  datasetRoot: z.string().nullable(),
  imageCount: z.number().int().nonnegative(),
  /** Images with a label in force (a correction, else a ground truth). */
  labelledCount: z.number().int().nonnegative(),
  /** Model versions that finished training. */
  modelCount: z.number().int().nonnegative(),
  /** Why the project is open read-only (a network folder, `--read-only`); absent or null: writable. */
  readOnly: z.string().nullable().optional(),
});
export type ProjectState = z.infer<typeof projectStateSchema>;

/** A long piece of work (import, training, inference, export) run by the host or the worker. */
export const jobKindSchema = z.enum([
  'import',
  'train',
  'predict',
  'evaluate',
  'export',
  'demo',
  'add-model',
  'import-predictions',
  // Predicting two versions where needed and measuring how their predictions differ.
  'compare',
  'pacs-retrieve',
  'pacs-send',
  // A reading plan's consensus per image (STAPLE or majority vote).
  'consensus',
]);
export type JobKind = z.infer<typeof jobKindSchema>;

export const jobSchema = z.object({
  id: z.string(),
  kind: jobKindSchema,
  state: z.enum(['running', 'succeeded', 'failed', 'cancelled']),
  /** Human-readable phase ("decoding", "epoch 3/10"). */
  phase: z.string(),
  done: z.number().nonnegative(),
  total: z.number().nonnegative().nullable(),
  startedAt: z.string(),
  finishedAt: z.string().nullable(),
  /** Failure or cancellation reason. */
  error: z.string().nullable(),
  /** Kind-specific figures (loss, Dice, images/s, ETA seconds, ...). */
  detail: z.record(z.string(), z.unknown()),
  /** Kind-specific result once succeeded. */
  result: z.unknown().optional(),
});
export type Job = z.infer<typeof jobSchema>;
