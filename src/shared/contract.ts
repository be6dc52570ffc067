/**
 * The contract: every request, response and event that crosses a process boundary (renderer <->
 * host over IPC or HTTP/WS). One zod schema per input, output and event; transports validate
 * inputs where they enter, `core/service.ts` is the one implementation.
 *
 * Adding a method: add an entry to `methods`; the preload, the HTTP server and the renderer client
 * pick it up from here.
 */
import type { AppMenuBridge } from './app-menu';
import type { TeamProjectsBridge } from './team-open';
import { z } from 'zod';
import { noInput } from './schema-helpers';
import { datasetEvents, datasetMethods } from './contract-dataset';
import { mlEvents, mlMethods } from './contract-ml';
import { reviewEvents, reviewMethods } from './contract-review';
import { exportEvents, exportMethods } from './contract-export';
import { interopEvents, interopMethods } from './contract-interop';
import { pacsEvents, pacsMethods } from './contract-pacs';
import { teamAuthEvents, teamAuthMethods } from './contract-team-auth';
import { teamPlanMethods } from './contract-team-plans';
import { teamAgreementMethods } from './contract-team-agreement';
import { adjudicationMethods } from './contract-team-adjudication';
import { appInfoSchema, jobSchema, projectStateSchema, workerStatusSchema } from './common-schemas';

// The schemas the room contracts share live in a leaf, so contract-*.ts never import this file.
export * from './common-schemas';

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
  ...teamAuthMethods,
  ...teamPlanMethods,
  ...teamAgreementMethods,
  ...adjudicationMethods,
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
  ...teamAuthEvents,
} as const;

export type EventTable = typeof events;
export type EventName = keyof EventTable;
export type EventPayload<E extends EventName> = z.output<EventTable[E]>;
export const eventNames = Object.keys(events) as EventName[];

/** Kinds of binary media reachable by id (custom protocol in Electron, /media in browser mode). */
export const mediaKindSchema = z.enum([
  'image',
  'thumbnail',
  'mask',
  // team review: a reader's label revision, an image's consensus probability map (?plan=&method=)
  'reading',
  'consensus',
]);
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
  /** The desktop app's "Open team project…" (preload only; see shared/team-open.ts). */
  teamProjects?: TeamProjectsBridge;
};

/** Error shape carried across transports. */
export const apiErrorSchema = z.object({
  // busy: the project database stayed locked by another program longer than we wait; try again.
  // read-only: the project is open read-only (the message says why); nothing was changed.
  code: z.enum([
    'bad-request',
    'not-found',
    'unauthorized',
    // signed in, but the caller's role or the blind rule does not allow it
    'forbidden',
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
