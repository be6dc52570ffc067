/**
 * How a CLI command reaches its project while honouring the one-writer lock: by opening it itself
 * when it is free; through the HTTP API of the `qataseg serve` that holds it (its address is in
 * the lock, its token in the project folder); or, when another command holds it, by waiting its
 * turn with a message. A holder on another machine is a refusal naming it.
 */
import http from 'node:http';
import https from 'node:https';
import path from 'node:path';
import WebSocket from 'ws';
import {
  ApiError,
  apiErrorSchema,
  type EventName,
  type Job,
  type MethodInput,
  type MethodName,
  type MethodOutput,
  type WorkerStatus,
} from '../shared/contract';
import { HTTP_API_PREFIX, HTTP_EVENTS_PATH, TOKEN_HEADER } from '../shared/channels';
import {
  describeHolder,
  holderIsGone,
  ProjectLockedError,
  type LockHolder,
} from '../core/project/lock';
import { NetworkFolderError, ProjectFileError, ProjectStore } from '../core/project/store';
import { createService, type Service } from '../core/service';
import type { BackendChoice } from '../shared/contract';
import { readProjectToken } from '../server/session-token';
import { isLoopbackHost } from '../server/http-util';

const WAIT_POLL_MS = 500;

/** An answer of the server that refuses the request as asked (the CLI's exit code 2). */
export function isRefusal(error: unknown): error is ApiError {
  return (
    error instanceof ApiError &&
    ['bad-request', 'not-found', 'unauthorized', 'forbidden', 'conflict', 'read-only'].includes(
      error.code,
    )
  );
}

/** A contract client of a running `qataseg serve`, over its HTTP API and event socket. */
export class ServerClient {
  private socket: WebSocket | null = null;
  private readonly listeners = new Set<(event: EventName, payload: unknown) => void>();
  private readonly closeListeners = new Set<() => void>();

  constructor(
    readonly url: string,
    private readonly token: string,
  ) {}

  /**
   * `serve --tls-cert` on this machine: its certificate is often self-signed, and the lock that
   * named the URL is in a folder only the owner writes; the connection never leaves loopback.
   */
  private tlsOptions(): { rejectUnauthorized?: boolean } {
    const url = new URL(this.url);
    return url.protocol === 'https:' && isLoopbackHost(url.hostname)
      ? { rejectUnauthorized: false }
      : {};
  }

  /** Calls a method; rejects with the server's ApiError. No time limit (evaluations are long). */
  call<M extends MethodName>(method: M, input?: MethodInput<M>): Promise<MethodOutput<M>> {
    const body = JSON.stringify(input ?? {});
    return new Promise((resolve, reject) => {
      const target = new URL(`${HTTP_API_PREFIX.slice(1)}${method}`, this.url);
      const request = (target.protocol === 'https:' ? https : http).request(
        target,
        {
          ...this.tlsOptions(),
          method: 'POST',
          headers: {
            'content-type': 'application/json',
            'content-length': Buffer.byteLength(body),
            [TOKEN_HEADER]: this.token,
          },
        },
        (response) => {
          const chunks: Buffer[] = [];
          response.on('data', (chunk: Buffer) => chunks.push(chunk));
          response.on('error', reject);
          response.on('end', () => {
            const text = Buffer.concat(chunks).toString('utf8');
            let parsed: unknown;
            try {
              parsed = JSON.parse(text);
            } catch {
              reject(
                new Error(`${this.url} answered ${response.statusCode}: ${text.slice(0, 200)}`),
              );
              return;
            }
            if (response.statusCode === 200) resolve(parsed as MethodOutput<M>);
            else {
              const error = apiErrorSchema.safeParse(parsed);
              reject(
                error.success
                  ? new ApiError(error.data.code, error.data.message)
                  : new Error(`${this.url} answered ${response.statusCode}`),
              );
            }
          });
        },
      );
      request.on('error', (error) =>
        reject(new Error(`the server at ${this.url} stopped answering (${error.message})`)),
      );
      request.end(body);
    });
  }

  /** Opens the event socket (resolves once open, so no event of a job started after is missed). */
  async connect(): Promise<void> {
    const socket = new WebSocket(
      new URL(HTTP_EVENTS_PATH.slice(1), this.url).href.replace(/^http/, 'ws'),
      {
        ...this.tlsOptions(),
        headers: { [TOKEN_HEADER]: this.token },
      },
    );
    await new Promise<void>((resolve, reject) => {
      socket.once('open', () => resolve());
      socket.once('error', reject);
    });
    socket.on('error', () => socket.terminate());
    socket.on('message', (data: Buffer) => {
      let message: { event: EventName; payload: unknown };
      try {
        message = JSON.parse(data.toString('utf8')) as typeof message;
      } catch {
        return;
      }
      for (const listener of this.listeners) listener(message.event, message.payload);
    });
    socket.on('close', () => {
      for (const listener of this.closeListeners) listener();
    });
    this.socket = socket;
  }

  subscribe(listener: (event: EventName, payload: unknown) => void): () => void {
    this.listeners.add(listener);
    return () => this.listeners.delete(listener);
  }

  onClose(listener: () => void): () => void {
    this.closeListeners.add(listener);
    return () => this.closeListeners.delete(listener);
  }

  /** Resolves with the job once it has ended; rejects if the server goes away first. */
  waitJob(id: string): Promise<Job> {
    return new Promise((resolve, reject) => {
      const finish = (job: Job) => {
        unsubscribe();
        offClose();
        resolve(job);
      };
      const unsubscribe = this.subscribe((event, payload) => {
        const job = payload as Job;
        if (event === 'job.updated' && job.id === id && job.state !== 'running') finish(job);
      });
      const offClose = this.onClose(() => {
        unsubscribe();
        reject(new Error(`the server at ${this.url} stopped before the job ended`));
      });
      // It may have ended before we listened.
      this.call('jobs.list')
        .then((jobs) => {
          const job = jobs.find((candidate) => candidate.id === id);
          if (job && job.state !== 'running') finish(job);
        })
        .catch(() => undefined);
    });
  }

  close(): void {
    this.socket?.close();
    this.socket = null;
  }
}

export type ProjectAccess =
  | { kind: 'local'; store: ProjectStore }
  | { kind: 'server'; client: ServerClient; holder: LockHolder };

/** The running server named by a lock, if it answers with the token kept in the project. */
async function serverOf(dir: string, holder: LockHolder): Promise<ServerClient | null> {
  const token = readProjectToken(dir);
  if (!holder.url || !token) return null;
  const client = new ServerClient(holder.url, token);
  try {
    await client.call('app.info');
    await client.connect();
    return client;
  } catch {
    client.close();
    return null;
  }
}

/**
 * Opens the project for this command: itself when the lock is free, else through the server that
 * holds it. When another command holds it, a `reader` (export, evaluate: they write nothing into
 * the project) opens it read-only beside the writer; a writer waits its turn, saying for whom.
 */
export async function reachProject(
  dir: string,
  what: string,
  options: { reader?: boolean } = {},
): Promise<ProjectAccess> {
  const absolute = path.resolve(dir);
  let announced = false;
  for (;;) {
    try {
      return { kind: 'local', store: ProjectStore.open(absolute) };
    } catch (error) {
      if (error instanceof NetworkFolderError && options.reader) {
        const store = ProjectStore.open(absolute, { readOnly: error.reason, inMemory: true });
        return { kind: 'local', store };
      }
      if (!(error instanceof ProjectLockedError)) throw error;
      const holder = error.holder;
      const client = error.local ? await serverOf(absolute, holder) : null;
      if (client) {
        process.stderr.write(
          `${what} runs in the qataseg serve that has ${absolute} open (${holder.url}).\n`,
        );
        return { kind: 'server', client, holder };
      }
      if (options.reader) {
        const reason = `${describeHolder(holder)} has it open for writing`;
        try {
          return { kind: 'local', store: ProjectStore.open(absolute, { readOnly: reason }) };
        } catch (readError) {
          if (!(readError instanceof ProjectFileError)) throw readError;
        }
      }
      if (!error.local) throw error;
      if (!announced) {
        process.stderr.write(
          `${absolute} is open for writing by ${describeHolder(holder)}: waiting for it to finish (Ctrl-C to stop waiting).\n`,
        );
        announced = true;
      }
      // holderIsGone covers a holder killed while we wait; open() then takes its lock over.
      if (!holderIsGone(holder)) await new Promise((resolve) => setTimeout(resolve, WAIT_POLL_MS));
    }
  }
}

/** What train, predict and evaluate need of the project, wherever it is open. */
export interface CliSession {
  invoke<M extends MethodName>(method: M, input?: MethodInput<M>): Promise<MethodOutput<M>>;
  subscribe(listener: (event: EventName, payload: unknown) => void): () => void;
  /** Resolves with the job once it has ended. */
  waitJob(id: string): Promise<Job>;
  cancelJob(id: string): void;
  workerStatus(): Promise<WorkerStatus>;
  close(): void;
}

export function localSession(service: Service): CliSession {
  return {
    invoke: (method, input) => service.invoke(method, input),
    subscribe: (listener) => service.subscribe(listener),
    waitJob: async (id) => {
      await service.jobs.wait(id).catch(() => undefined);
      return service.jobs.get(id);
    },
    cancelJob: (id) => {
      service.jobs.cancel(id);
    },
    workerStatus: () => Promise.resolve(service.worker.getStatus()),
    close: () => service.close(),
  };
}

export function serverSession(client: ServerClient): CliSession {
  return {
    invoke: (method, input) => client.call(method, input),
    subscribe: (listener) => client.subscribe(listener),
    waitJob: (id) => client.waitJob(id),
    cancelJob: (id) => {
      client.call('jobs.cancel', { id }).catch(() => undefined);
    },
    workerStatus: () => client.call('worker.status'),
    close: () => client.close(),
  };
}

/** A session on the project: the service in this process, or the server that holds it. */
export async function openSession(
  dir: string,
  backend: BackendChoice,
  what: string,
  options: { reader?: boolean } = {},
): Promise<CliSession> {
  const access = await reachProject(dir, what, options);
  if (access.kind === 'server') {
    if (backend !== 'auto') {
      process.stderr.write(
        `--backend ${backend} does not apply: the server's ML worker runs it.\n`,
      );
    }
    return serverSession(access.client);
  }
  // The service opens its own store under the same (re-entrant) lock; ours only reserved it.
  try {
    // A reader beside a writer (or on a network folder) opens it read-only, as reachProject did.
    return localSession(
      createService({
        transport: 'http',
        backend,
        projectDir: access.store.dir,
        projectReadOnly: access.store.readOnly ?? undefined,
        projectInMemory: access.store.inMemory,
      }),
    );
  } finally {
    access.store.close();
  }
}
