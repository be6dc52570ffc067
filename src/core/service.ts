/**
 * The one implementation of the contract (src/shared/contract.ts). Transports (Electron IPC, the
 * local HTTP/WS server, the CLI) validate inputs with the contract's schemas and call `call`;
 * events flow back through `subscribe`.
 *
 * Each room has a handler group in ./handlers (dataset, ml, review, export, interop); this file composes them and
 * owns what they share: the open project, the job manager and the ML worker.
 */
import { EventEmitter } from 'node:events';
import path from 'node:path';
import {
  ApiError,
  isMethodName,
  methodNames,
  parseInput,
  type EventName,
  type EventPayload,
  type MediaKind,
  type MethodInput,
  type MethodName,
  type MethodOutput,
  type ProjectState,
} from '../shared/contract';
import { appPackage } from './app-package';
import { JobManager } from './jobs';
import type { HandlerGroup, ServiceContext, ServiceOptions } from './handlers/context';
import { ProjectStore } from './project/store';
import { WorkerHost } from './ml/worker-host';
import { nodeWorkerLauncher } from './ml/node-launcher';
import { datasetHandlers } from './handlers/dataset';
import { mlHandlers } from './handlers/ml';
import { reviewHandlers } from './handlers/review';
import { exportHandlers } from './handlers/export';
import { interopHandlers } from './handlers/interop';
import { pacsHandlers } from './handlers/pacs';
import { teamAuthHandlers } from './handlers/team-auth';
import { teamAgreementHandlers } from './handlers/team-agreement';
import { adjudicationHandlers } from './handlers/team-adjudication';
import { serveMedia, type MediaResponse } from './handlers/media';
import { OWNER, type Caller } from './team/caller';
import { assertMayCall, assertMaySeeMedia } from './team/permissions';
import { recordAudit } from './team/audit';
import { teamPlanHandlers } from './handlers/team-plans';
import { redactOutput } from './team/visibility';

// Hosts construct a Service with these; handlers import them from ./handlers/context.
export type { Handler, HandlerGroup, ServiceContext, ServiceOptions } from './handlers/context';

/**
 * `origin`: who made the request that caused the event (null: the host itself), for the
 * transports that send each caller only what core/team/visibility.ts `eventFor` lets them hear.
 */
export type EventListener = (event: EventName, payload: unknown, origin: Caller | null) => void;

export class Service implements ServiceContext {
  readonly jobs: JobManager;
  readonly worker: WorkerHost;
  private store: ProjectStore | null = null;
  private readonly emitter = new EventEmitter();
  private readonly handlers: HandlerGroup;

  constructor(readonly options: ServiceOptions) {
    this.emitter.setMaxListeners(0);
    this.jobs = new JobManager((job) => this.emit('job.updated', job));
    this.worker = new WorkerHost(
      options.workerLauncher ?? nodeWorkerLauncher(),
      options.backend ?? 'auto',
      (status) => this.emit('worker.status', status),
    );
    this.handlers = allHandlers();
    if (options.projectDir) {
      this.openProject(options.projectDir, {
        readOnly: options.projectReadOnly,
        inMemory: options.projectInMemory,
      });
    }
  }

  /** Methods of the contract that have no handler (a test keeps this empty). */
  static missingHandlers(): MethodName[] {
    const all = allHandlers();
    return methodNames.filter((name) => !all[name]);
  }

  project(): ProjectStore {
    if (!this.store) throw new ApiError('conflict', 'no project is open');
    return this.store;
  }

  projectOrNull(): ProjectStore | null {
    return this.store;
  }

  openProject(dir: string, options: { readOnly?: string; inMemory?: boolean } = {}): ProjectStore {
    const next = ProjectStore.open(dir, options);
    this.store?.close();
    this.store = next;
    this.emit('project.changed', this.projectState());
    return next;
  }

  projectState(): ProjectState {
    const store = this.store;
    if (!store) {
      return {
        projectDir: null,
        name: null,
        datasetRoot: null,
        imageCount: 0,
        labelledCount: 0,
        modelCount: 0,
      };
    }
    return {
      projectDir: store.dir,
      name: store.name,
      datasetRoot: store.getMeta('dataset_root'),
      ...store.counts(),
      readOnly: store.readOnly,
    };
  }

  emit<E extends EventName>(
    event: E,
    payload: EventPayload<E>,
    origin: Caller | null = null,
  ): void {
    this.emitter.emit('event', event, payload, origin);
  }

  subscribe(listener: EventListener): () => void {
    this.emitter.on('event', listener);
    return () => this.emitter.off('event', listener);
  }

  /**
   * Checks that the caller's role may call the method (core/team/permissions.ts), validates the
   * input against the contract, runs the method's handler as `caller` (hosts that authenticate
   * team members pass who signed in; everyone else is the project's owner) and, once it has
   * succeeded, records it in the audit trail when the method is audited (core/team/audit.ts).
   */
  async call(method: string, input: unknown, caller: Caller = OWNER): Promise<unknown> {
    if (!isMethodName(method)) throw new ApiError('not-found', `unknown method: ${method}`);
    // Before the input is read: a refused caller learns nothing from validation messages.
    assertMayCall(caller, method);
    const parsed = parseInput(method, input);
    // The table is keyed by method, so the handler matches the parsed input's method.
    const handler = this.handlers[method] as
      ((input: unknown, context: ServiceContext, caller: Caller) => unknown) | undefined;
    if (!handler) throw new ApiError('not-found', `method not implemented: ${method}`);
    const readOnly = this.store?.readOnly;
    // The ML worker reads the project file itself, not a copy in memory.
    const refused = WRITING_JOBS.has(method) || (this.store?.inMemory && method === 'evaluate.run');
    if (readOnly && refused) {
      throw new ApiError(
        'read-only',
        `${method} is not available: the project is open read-only: ${readOnly}`,
      );
    }
    let output: unknown;
    try {
      output = redactOutput(caller, method, await handler(parsed, this, caller));
    } catch (error) {
      throw databaseError(error, readOnly ?? null) ?? error;
    }
    // A read-only project (an export beside a writer) keeps no trail: nothing can be written.
    const store = this.store;
    if (store && !store.readOnly) recordAudit(store.db, caller, method, parsed, output);
    return output;
  }

  /** Typed call for in-process users (CLI, tests). */
  invoke<M extends MethodName>(
    method: M,
    input?: MethodInput<M>,
    caller: Caller = OWNER,
  ): Promise<MethodOutput<M>> {
    return this.call(method, input ?? {}, caller) as Promise<MethodOutput<M>>;
  }

  async media(
    kind: MediaKind,
    id: number,
    query: URLSearchParams,
    caller: Caller = OWNER,
  ): Promise<MediaResponse> {
    assertMaySeeMedia(caller, kind);
    return serveMedia(this, kind, id, query, caller);
  }

  close(): void {
    this.worker.stop();
    this.store?.close();
    this.store = null;
  }
}

/**
 * Jobs that would write to a read-only project only at their end (or into its folder): refused
 * up front. Every other write is stopped by SQLite itself (SQLITE_READONLY, see databaseError).
 */
const WRITING_JOBS = new Set<string>([
  'dataset.import',
  'train.start',
  'train.resume',
  'predict.start',
  'models.add',
  'predictions.import',
  // Predicts what is missing, then records the figures.
  'changes.start',
  'pacs.retrieve',
  'pacs.add',
  'pacs.remove',
  'consensus.run',
]);

/**
 * The contract's error for a database refusal: a read-only project ('read-only', 409), or a database another
 * program kept locked longer than the busy timeout (503 'busy', to retry; never a 500).
 */
export function databaseError(error: unknown, readOnly: string | null): ApiError | null {
  const code = (error as { code?: unknown } | null)?.code;
  if (typeof code !== 'string' || !code.startsWith('SQLITE_')) return null;
  if (code.startsWith('SQLITE_READONLY')) {
    return new ApiError(
      'read-only',
      `the project is open read-only${readOnly ? `: ${readOnly}` : ''}`,
    );
  }
  if (code.startsWith('SQLITE_BUSY') || code.startsWith('SQLITE_LOCKED')) {
    return new ApiError(
      'busy',
      'the project database is busy (another program is writing to it); try again in a moment',
    );
  }
  return null;
}

const coreHandlers: HandlerGroup = {
  'app.info': (_input, context) => ({
    name: appPackage.name,
    version: appPackage.version,
    transport: context.options.transport,
    node: process.versions.node,
    electron: context.options.electronVersion ?? process.versions.electron ?? null,
    platform: `${process.platform}-${process.arch}`,
  }),
  'project.state': (_input, context) => context.projectState(),
  'worker.status': (_input, context) => context.worker.getStatus(),
  'worker.restart': (_input, context) => context.worker.restart(),
  'jobs.list': (_input, context) => context.jobs.list(),
  'system.pickFolder': async (_input, context) => ({
    path: context.options.pickFolder ? await context.options.pickFolder() : null,
    native: Boolean(context.options.pickFolder),
  }),
  'jobs.cancel': (input, context) => context.jobs.cancel(input.id),
};

export function createService(options: ServiceOptions): Service {
  return new Service(options);
}

export function resolveProjectDir(dir: string): string {
  return path.resolve(dir);
}

/** Every room's handlers, by method: what the service answers and what missingHandlers checks. */
function allHandlers(): HandlerGroup {
  return {
    ...coreHandlers,
    ...datasetHandlers,
    ...mlHandlers,
    ...reviewHandlers,
    ...exportHandlers,
    ...interopHandlers,
    ...pacsHandlers,
    ...teamAuthHandlers,
    ...teamPlanHandlers,
    ...teamAgreementHandlers,
    ...adjudicationHandlers,
  };
}
