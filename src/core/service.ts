/**
 * The one implementation of the contract (src/shared/contract.ts). Transports (Electron IPC, the
 * local HTTP/WS server, the CLI) validate inputs with the contract's schemas and call `call`;
 * events flow back through `subscribe`.
 *
 * Each room contributes a handler group (dataset, ml, review, export); this file composes them and
 * owns what they share: the open project, the job manager and the ML worker.
 */
import { EventEmitter } from 'node:events';
import { createRequire } from 'node:module';
import path from 'node:path';
import {
  ApiError,
  isMethodName,
  methodNames,
  parseInput,
  type BackendChoice,
  type EventName,
  type EventPayload,
  type MediaKind,
  type MethodInput,
  type MethodName,
  type MethodOutput,
  type ProjectState,
} from '../shared/contract';
import { JobManager } from './jobs';
import { ProjectStore } from './project/store';
import { WorkerHost, type WorkerLauncher } from './ml/worker-host';
import { nodeWorkerLauncher } from './ml/node-launcher';
import { datasetHandlers } from './dataset/handlers';
import { mlHandlers } from './ml/handlers';
import { reviewHandlers } from './project/review-handlers';
import { exportHandlers } from './export/handlers';
import { serveMedia, type MediaResponse } from './media';

const require = createRequire(import.meta.url);
const packageJson = require('../../package.json') as { name: string; version: string };

export interface ServiceOptions {
  projectDir?: string | null;
  transport: 'electron' | 'http';
  electronVersion?: string | null;
  backend?: BackendChoice;
  workerLauncher?: WorkerLauncher;
  /** Native folder picker (Electron's dialog); absent in browser mode, where paths are typed. */
  pickFolder?: () => Promise<string | null>;
}

/** What handler groups see of the service. */
export interface ServiceContext {
  readonly options: ServiceOptions;
  /** The open project; throws a 'conflict' ApiError when none is open. */
  project(): ProjectStore;
  projectOrNull(): ProjectStore | null;
  openProject(dir: string): ProjectStore;
  projectState(): ProjectState;
  emit<E extends EventName>(event: E, payload: EventPayload<E>): void;
  readonly jobs: JobManager;
  readonly worker: WorkerHost;
}

export type Handler<M extends MethodName> = (
  input: MethodInput<M>,
  context: ServiceContext,
) => Promise<MethodOutput<M>> | MethodOutput<M>;

export type HandlerGroup = { [M in MethodName]?: Handler<M> };

export type EventListener = (event: EventName, payload: unknown) => void;

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
    this.handlers = {
      ...coreHandlers,
      ...datasetHandlers,
      ...mlHandlers,
      ...reviewHandlers,
      ...exportHandlers,
    };
    if (options.projectDir) this.openProject(options.projectDir);
  }

  /** Methods of the contract that have no handler (a test keeps this empty). */
  static missingHandlers(): MethodName[] {
    const all = {
      ...coreHandlers,
      ...datasetHandlers,
      ...mlHandlers,
      ...reviewHandlers,
      ...exportHandlers,
    };
    return methodNames.filter((name) => !all[name]);
  }

  project(): ProjectStore {
    if (!this.store) throw new ApiError('conflict', 'no project is open');
    return this.store;
  }

  projectOrNull(): ProjectStore | null {
    return this.store;
  }

  openProject(dir: string): ProjectStore {
    const next = ProjectStore.open(dir);
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
    };
  }

  emit<E extends EventName>(event: E, payload: EventPayload<E>): void {
    this.emitter.emit('event', event, payload);
  }

  subscribe(listener: EventListener): () => void {
    this.emitter.on('event', listener);
    return () => this.emitter.off('event', listener);
  }

  /** Validates the input against the contract and runs the method's handler. */
  async call(method: string, input: unknown): Promise<unknown> {
    if (!isMethodName(method)) throw new ApiError('not-found', `unknown method: ${method}`);
    const parsed = parseInput(method, input);
    // The table is keyed by method, so the handler matches the parsed input's method.
    const handler = this.handlers[method] as
      ((input: unknown, context: ServiceContext) => unknown) | undefined;
    if (!handler) throw new ApiError('not-found', `method not implemented: ${method}`);
    return handler(parsed, this);
  }

  /** Typed call for in-process users (CLI, tests). */
  invoke<M extends MethodName>(method: M, input?: MethodInput<M>): Promise<MethodOutput<M>> {
    return this.call(method, input ?? {}) as Promise<MethodOutput<M>>;
  }

  media(kind: MediaKind, id: number, query: URLSearchParams): Promise<MediaResponse> {
    return serveMedia(this, kind, id, query);
  }

  close(): void {
    this.worker.stop();
    this.store?.close();
    this.store = null;
  }
}

const coreHandlers: HandlerGroup = {
  'app.info': (_input, context) => ({
    name: packageJson.name,
    version: packageJson.version,
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
