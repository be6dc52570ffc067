/**
 * The contract: every request, response and event that crosses a process boundary (renderer <->
 * host over IPC or HTTP/WS). One zod schema per input, output and event; transports validate
 * inputs where they enter, `core/service.ts` is the one implementation.
 *
 * Adding a method: add an entry to `methods`; the preload, the HTTP server and the renderer client
 * pick it up from here.
 */
import type { AppMenuBridge } from './app-menu';
import { z } from 'zod';
import { noInput } from './schema-helpers';
import { datasetEvents, datasetMethods } from './contract-dataset';
import { mlEvents, mlMethods } from './contract-ml';
import { reviewEvents, reviewMethods } from './contract-review';
import { exportEvents, exportMethods } from './contract-export';
import { interopEvents, interopMethods } from './contract-interop';
import { pacsEvents, pacsMethods } from './contract-pacs';

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

/** Method table: name -> input and output schemas. */
export const methods = {
  'app.info': { input: noInput, output: appInfoSchema },
  'project.state': { input: noInput, output: projectStateSchema },
  'worker.status': { input: noInput, output: workerStatusSchema },
  'worker.restart': { input: noInput, output: workerStatusSchema },
  'jobs.list': { input: noInput, output: z.array(jobSchema) },
  'jobs.cancel': { input: z.object({ id: z.string() }), output: jobSchema },
  /** Native folder dialog in Electron; `native: false` tells the renderer to ask for a typed path. */
  'system.pickFolder': {
    input: noInput,
    output: z.object({ path: z.string().nullable(), native: z.boolean() }),
  },
  ...datasetMethods,
  ...mlMethods,
  ...reviewMethods,
  ...exportMethods,
  ...interopMethods,
  ...pacsMethods,
} as const;

export type MethodTable = typeof methods;
export type MethodName = keyof MethodTable;
export type MethodInput<M extends MethodName> = z.input<MethodTable[M]['input']>;
export type MethodOutput<M extends MethodName> = z.output<MethodTable[M]['output']>;

export const methodNames = Object.keys(methods) as MethodName[];

export function isMethodName(name: string): name is MethodName {
  return Object.prototype.hasOwnProperty.call(methods, name);
}

/** Events pushed from the host to every connected renderer. */
export const events = {
  'worker.status': workerStatusSchema,
  'project.changed': projectStateSchema,
  'job.updated': jobSchema,
  ...datasetEvents,
  ...mlEvents,
  ...reviewEvents,
  ...exportEvents,
  ...interopEvents,
  ...pacsEvents,
} as const;

export type EventTable = typeof events;
export type EventName = keyof EventTable;
export type EventPayload<E extends EventName> = z.output<EventTable[E]>;
export const eventNames = Object.keys(events) as EventName[];

/** Kinds of binary media reachable by id (custom protocol in Electron, /media in browser mode). */
export const mediaKindSchema = z.enum(['image', 'thumbnail', 'mask']);
export type MediaKind = z.infer<typeof mediaKindSchema>;

/**
 * The object the renderer sees as `window.api`. Each method takes the validated input and
 * resolves with the output; `on` subscribes to events; `mediaUrl` builds the id-keyed URL of an
 * image, thumbnail or mask revision (never a file path).
 */
export type Api = {
  [M in MethodName]: (input?: MethodInput<M>) => Promise<MethodOutput<M>>;
} & {
  on<E extends EventName>(event: E, listener: (payload: EventPayload<E>) => void): () => void;
  mediaUrl(kind: MediaKind, id: number, query?: Record<string, string | number>): string;
  /** The desktop app's menu bar (preload only; see shared/app-menu.ts). */
  appMenu?: AppMenuBridge;
};

/** Error shape carried across transports. */
export const apiErrorSchema = z.object({
  // busy: the project database stayed locked by another program longer than we wait; try again.
  // read-only: the project is open read-only (the message says why); nothing was changed.
  code: z.enum([
    'bad-request',
    'not-found',
    'unauthorized',
    'conflict',
    'read-only',
    'busy',
    'internal',
  ]),
  message: z.string(),
});
export type ApiErrorBody = z.infer<typeof apiErrorSchema>;

export class ApiError extends Error {
  constructor(
    readonly code: ApiErrorBody['code'],
    message: string,
  ) {
    super(message);
    this.name = 'ApiError';
  }
}

/** The contract's error code of an error a transport threw (an ApiError or a copy), else null. */
export function apiErrorCode(error: unknown): ApiErrorBody['code'] | null {
  const code = (error as { code?: unknown } | null | undefined)?.code;
  const parsed = apiErrorSchema.shape.code.safeParse(code);
  return parsed.success ? parsed.data : null;
}

/**
 * An ApiError again from what a transport rejected with: an ApiError, or a plain { code, message }
 * copy of one (Electron's contextBridge drops an Error's own properties, so the preload rejects
 * with the plain body). Anything else is returned as it is.
 */
export function toApiError(error: unknown): unknown {
  if (error instanceof ApiError) return error;
  const code = apiErrorCode(error);
  if (code === null) return error;
  const message = (error as { message?: unknown }).message;
  return new ApiError(code, typeof message === 'string' ? message : code);
}

/** Validates a method's input, throwing ApiError('bad-request') with the schema's message. */
export function parseInput<M extends MethodName>(method: M, input: unknown): MethodInput<M> {
  const result = methods[method].input.safeParse(input);
  if (!result.success) {
    throw new ApiError('bad-request', `${method}: ${z.prettifyError(result.error)}`);
  }
  return result.data as MethodInput<M>;
}
