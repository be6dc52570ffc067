/**
 * Multi-threaded wasm in Node. tfjs-backend-wasm ships a threaded SIMD build but never uses it in
 * Node (its WASM_HAS_MULTITHREAD_SUPPORT flag is false there, and its loader hands Emscripten
 * Blob URLs that worker_threads cannot open). Here we instantiate that build ourselves: the pthread
 * worker script goes to a temp file, the main script is the package's own file, and the backend
 * object is the package's BackendWasm, registered under the name 'wasm' so every wasm kernel
 * (stock and ours) applies unchanged.
 *
 * The C++ side caps XNNPACK's pool at (logical cores / 2), assuming hyper-threading; on a 2-core
 * machine that is 1, so os.cpus() reports twice the cores while the module initialises.
 */
import { createRequire } from 'node:module';
import { createHash } from 'node:crypto';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import type { Tf } from '../tf';

const require = createRequire(import.meta.url);

interface EmscriptenModule {
  cwrap: (name: string, returnType: string | null, argTypes: string[]) => unknown;
  tfjs?: Record<string, unknown>;
}
type ModuleFactory = (config: Record<string, unknown>) => Promise<EmscriptenModule>;

function wasmOutDir(): string {
  return path.dirname(
    require.resolve('@tensorflow/tfjs-backend-wasm/wasm-out/tfjs-backend-wasm-threaded-simd.js'),
  );
}

/** The pthread worker script as a real file (its source ships only as a JS string). */
function writeWorkerScript(dir: string): string {
  const { wasmWorkerContents } = require(
    path.join(dir, 'tfjs-backend-wasm-threaded-simd.worker.js'),
  ) as { wasmWorkerContents: string };
  // Same escaping tfjs applies before making its Blob: the template literal unescaped the '\n's.
  const source = wasmWorkerContents.replace(/\n/g, '\\n');
  const hash = createHash('sha256').update(source).digest('hex').slice(0, 12);
  const file = path.join(os.tmpdir(), `qataseg-tfjs-wasm-pthread-${hash}.cjs`);
  if (!fs.existsSync(file)) {
    const partial = `${file}.${process.pid}.tmp`;
    fs.writeFileSync(partial, source);
    fs.renameSync(partial, file);
  }
  return file;
}

async function instantiateThreaded(): Promise<EmscriptenModule> {
  const dir = wasmOutDir();
  const workerFile = writeWorkerScript(dir);
  const mainScript = path.join(dir, 'tfjs-backend-wasm-threaded-simd.js');
  const factory = require(mainScript) as ModuleFactory;
  const realCpus = os.cpus;
  const cpus = realCpus();
  os.cpus = () => [...cpus, ...cpus];
  try {
    const module = await factory({
      locateFile: (file: string) =>
        file.endsWith('.worker.js') ? workerFile : path.join(dir, file),
      mainScriptUrlOrBlob: mainScript,
    });
    // The same C bridge tfjs' own loader sets up.
    module.tfjs = {
      init: module.cwrap('init', null, []),
      initWithThreadsCount: module.cwrap('init_with_threads_count', null, ['number']),
      getThreadsCount: module.cwrap('get_threads_count', 'number', []),
      registerTensor: module.cwrap('register_tensor', null, ['number', 'number', 'number']),
      disposeData: module.cwrap('dispose_data', null, ['number']),
      dispose: module.cwrap('dispose', null, []),
    };
    return module;
  } finally {
    os.cpus = realCpus;
  }
}

/**
 * Makes 'wasm' the threaded SIMD build with `threads` XNNPACK threads and selects it. Returns the
 * thread count XNNPACK reports. Throws (leaving the stock 'wasm' registration in place) if the
 * threaded module cannot start.
 */
let activeThreads = 1;
let lastFailure: string | null = null;

/** XNNPACK threads of the active wasm backend (1 unless useThreadedWasm succeeded). */
export function wasmThreadCount(): number {
  return activeThreads;
}

/** Why the threaded build was not used, if it was asked for and failed. */
export function threadedWasmFailure(): string | null {
  return lastFailure;
}

export function noteThreadedWasmFailure(reason: string): void {
  lastFailure = reason;
  activeThreads = 1;
}

/** Threads asked for through QATASEG_WASM_THREADS (else DEFAULT_WASM_THREADS), capped at cores. */
export function requestedWasmThreads(): number {
  const fromEnv = Number(process.env.QATASEG_WASM_THREADS);
  const wanted = Number.isInteger(fromEnv) && fromEnv > 0 ? fromEnv : DEFAULT_WASM_THREADS;
  return Math.max(1, Math.min(wanted, os.availableParallelism()));
}

/**
 * Both cores by default: on the project's 2-core machines bench/run.ts measured 2 threads well
 * ahead of 1 (bench/README.md), and the ML tests pass on it. QATASEG_WASM_THREADS=1 opts out.
 */
export const DEFAULT_WASM_THREADS = 2;

export async function useThreadedWasm(tf: Tf, threads: number): Promise<number> {
  const wasm = await import('@tensorflow/tfjs-backend-wasm');
  const module = await instantiateThreaded();
  wasm.setThreadsCount(threads);
  const previous = tf.findBackendFactory('wasm') as ReturnType<Tf['findBackendFactory']> | null;
  if (previous) tf.removeBackend('wasm');
  tf.registerBackend('wasm', () => new wasm.BackendWasm(module as never));
  const ok = await tf.setBackend('wasm');
  if (!ok) {
    tf.removeBackend('wasm');
    if (previous) tf.registerBackend('wasm', previous);
    throw new Error('the threaded wasm backend failed to initialise');
  }
  activeThreads = wasm.getThreadsCount();
  lastFailure = null;
  // XNNPACK's pthreads keep the event loop alive: a forked worker whose host went away must not
  // linger because of them.
  if (activeThreads > 1 && process.connected) {
    process.once('disconnect', () => process.exit(0));
  }
  return activeThreads;
}
