/**
 * ML worker process entry. Started by the host with child_process.fork (CLI, server) or
 * Electron's utilityProcess (app). Loads the tfjs runtime ladder, then runs jobs one message at a
 * time, streaming progress and obeying cancel.
 */
import { loadRuntime, oneLineReason, type LoadedRuntime } from '../core/ml/backends';
import { hostToWorkerSchema, type WorkerToHost } from '../shared/worker-protocol';
import { workerJobs } from './jobs';
import { silenceTfjsNodeAdvice } from './quiet-tfjs';

silenceTfjsNodeAdvice();

interface ParentPort {
  postMessage(message: unknown): void;
  /** Sends a last message and calls `then` once it has left (or could not). */
  postLast(message: unknown, then: () => void): void;
  on(event: 'message', listener: (message: unknown) => void): void;
}

/** Electron's utilityProcess exposes process.parentPort; child_process.fork uses process.send. */
function connectToHost(): ParentPort {
  const electronPort = (
    process as unknown as {
      parentPort?: {
        postMessage(m: unknown): void;
        on(e: 'message', l: (m: { data: unknown }) => void): void;
      };
    }
  ).parentPort;
  if (electronPort) {
    return {
      postMessage: (message) => electronPort.postMessage(message),
      postLast: (message, then) => {
        electronPort.postMessage(message);
        setTimeout(then, 100);
      },
      on: (_event, listener) => electronPort.on('message', (event) => listener(event.data)),
    };
  }
  if (!process.send) throw new Error('the ML worker must be started by the host (no IPC channel)');
  // A host that dies without a shutdown message (killed, crashed) must not leave us training alone.
  process.on('disconnect', () => process.exit(0));
  return {
    postMessage: (message) => process.send?.(message),
    postLast: (message, then) => {
      if (!process.connected || !process.send) return then();
      process.send(message, undefined, {}, () => then());
    },
    on: (_event, listener) => process.on('message', listener),
  };
}

const port = connectToHost();
const send = (message: WorkerToHost) => port.postMessage(message);
const running = new Map<string, AbortController>();
let runtime: LoadedRuntime | null = null;

// An uncaught error ends the worker: say why first, so the host fails its jobs with the reason.
for (const event of ['uncaughtException', 'unhandledRejection'] as const) {
  process.on(event, (error: unknown) => {
    const message: WorkerToHost = { type: 'fatal', message: oneLineReason(error) };
    port.postLast(message, () => process.exit(1));
  });
}

async function runJob(jobId: string, kind: string, params: unknown): Promise<void> {
  const controller = new AbortController();
  running.set(jobId, controller);
  try {
    if (!runtime) throw new Error('the worker has no runtime yet');
    const handler = workerJobs.get(kind);
    if (!handler) throw new Error(`unknown worker job kind: ${kind}`);
    const result = await handler(params, {
      tf: runtime.tf,
      ort: runtime.ort,
      backend: runtime.backend,
      signal: controller.signal,
      progress: (progress) => send({ type: 'progress', jobId, progress }),
      log: (level, message) => send({ type: 'log', level, message }),
    });
    send({ type: 'result', jobId, result });
  } catch (error) {
    send({
      type: 'error',
      jobId,
      message: error instanceof Error ? error.message : String(error),
      cancelled: controller.signal.aborted,
    });
  } finally {
    running.delete(jobId);
  }
}

port.on('message', (raw) => {
  const parsed = hostToWorkerSchema.safeParse(raw);
  if (!parsed.success) {
    send({
      type: 'log',
      level: 'warn',
      message: `ignored malformed host message: ${parsed.error.message}`,
    });
    return;
  }
  const message = parsed.data;
  switch (message.type) {
    case 'init':
      loadRuntime(message.backend).then(
        (loaded) => {
          runtime = loaded;
          send({ type: 'ready', backend: loaded.backend, ladder: loaded.ladder, pid: process.pid });
        },
        (error: unknown) => {
          const ladder = (error as { ladder?: LoadedRuntime['ladder'] }).ladder ?? [];
          send({ type: 'init-failed', ladder, message: oneLineReason(error) });
        },
      );
      break;
    case 'job':
      void runJob(message.jobId, message.kind, message.params);
      break;
    case 'cancel':
      running.get(message.jobId)?.abort();
      break;
    case 'ping':
      send({ type: 'pong', seq: message.seq });
      break;
    case 'shutdown':
      process.exit(0);
  }
});
