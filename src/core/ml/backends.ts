/**
 * The ML runtime ladder: tfjs-node-gpu (CUDA 11.2), onnxruntime's GPU providers (CUDA 12,
 * DirectML, CoreML: each admitted by a self-check against its CPU provider, ./onnx/providers.ts),
 * tfjs-node, onnxruntime (native CPU), wasm (SIMD) and cpu. The first that loads wins unless one
 * is forced; every step records why it was taken or skipped. On the onnxruntime steps tfjs (cpu
 * backend) still builds, loads and saves the models; onnxruntime runs the training steps and
 * predictions (./onnx/runtime.ts).
 */
import { createRequire } from 'node:module';
import path from 'node:path';
import {
  backendNameSchema,
  type BackendChoice,
  type BackendName,
  type LadderStep,
} from '../../shared/contract';
import type { Engine, Tf } from './tf';

const require = createRequire(import.meta.url);

/** The ladder, fastest first: the contract's backend names are listed in that order. */
export const LADDER: readonly BackendName[] = backendNameSchema.options;

export interface LoadedRuntime extends Engine {
  backend: BackendName;
  ladder: LadderStep[];
}

/** First line of an error, without the stack: the one-line reason shown to users. */
export function oneLineReason(error: unknown): string {
  const text = error instanceof Error ? error.message : String(error);
  const first = text.split('\n').find((line) => line.trim().length > 0) ?? 'unknown error';
  return first.trim().slice(0, 300);
}

/** Resolves the user's choice from an explicit option, then QATASEG_BACKEND, then auto. */
export function resolveBackendChoice(explicit?: BackendChoice | null): BackendChoice {
  if (explicit && explicit !== 'auto') return explicit;
  const fromEnv = process.env.QATASEG_BACKEND;
  if (fromEnv && (LADDER as readonly string[]).includes(fromEnv)) return fromEnv as BackendName;
  return 'auto';
}

/** A loaded engine and what to say about it in the ladder (version, threads). */
type Loaded = Engine & { detail?: string };

async function tryBackend(name: BackendName): Promise<Loaded> {
  switch (name) {
    case 'tensorflow-gpu': {
      // Registers the 'tensorflow' backend bound to libtensorflow with CUDA.
      const tf = require('@tensorflow/tfjs-node-gpu') as Tf;
      await tf.setBackend('tensorflow');
      await tf.ready();
      return { tf, ort: null };
    }
    case 'tensorflow': {
      const tf = require('@tensorflow/tfjs-node') as Tf;
      await tf.setBackend('tensorflow');
      await tf.ready();
      return { tf, ort: null };
    }
    case 'onnxruntime-cuda':
    case 'onnxruntime-directml':
    case 'onnxruntime-coreml': {
      const { GPU_RUNGS, ProviderRefused, providerAbsence, selfCheckProvider } =
        await import('./onnx/providers');
      const rung = GPU_RUNGS.find((candidate) => candidate.backend === name);
      if (!rung) throw new Error(`no GPU rung named ${name}`);
      const { loadOnnxRuntime, useExecutionProvider } = await import('./onnx/runtime');
      const ort = await loadOnnxRuntime();
      const absence = providerAbsence(ort, rung);
      if (absence) throw new ProviderRefused(absence, true);
      const check = await selfCheckProvider(ort, rung.provider);
      useExecutionProvider(rung.provider);
      const { version } = require('onnxruntime-node/package.json') as { version: string };
      const tf = (await import('@tensorflow/tfjs')) as Tf;
      await tf.setBackend('cpu');
      await tf.ready();
      const errors = `${check.inferenceError.toExponential(1)} / ${check.trainingError.toExponential(1)}`;
      return {
        tf,
        ort,
        detail: `onnxruntime ${version}, ${rung.label} provider; self-check against CPU, relative error inference / training step: ${errors}`,
      };
    }
    case 'onnxruntime': {
      const { loadOnnxRuntime, onnxThreads } = await import('./onnx/runtime');
      const ort = await loadOnnxRuntime();
      const { version } = require('onnxruntime-node/package.json') as { version: string };
      // tfjs only keeps the model of record here; cpu is enough for that.
      const tf = (await import('@tensorflow/tfjs')) as Tf;
      await tf.setBackend('cpu');
      await tf.ready();
      return { tf, ort, detail: `onnxruntime ${version}, CPU provider, ${onnxThreads()} threads` };
    }
    case 'wasm': {
      const tf = (await import('@tensorflow/tfjs')) as Tf;
      const wasm = await import('@tensorflow/tfjs-backend-wasm');
      const wasmDir = path.dirname(
        require.resolve('@tensorflow/tfjs-backend-wasm/dist/tfjs-backend-wasm.wasm'),
      );
      wasm.setWasmPaths(wasmDir + path.sep);
      const kernels = await import('./kernels');
      // Both cores through the threaded SIMD build when asked; the single-threaded one otherwise
      // or when the threaded one cannot start.
      const threads = kernels.requestedWasmThreads();
      let threaded = false;
      if (threads > 1) {
        try {
          await kernels.useThreadedWasm(tf, threads);
          threaded = true;
        } catch (error) {
          kernels.noteThreadedWasmFailure(oneLineReason(error));
        }
      }
      if (!threaded) {
        const ok = await tf.setBackend('wasm');
        if (!ok) throw new Error('the wasm backend failed to initialise');
      }
      await tf.ready();
      // Stock wasm cannot train a conv net: add the project's training kernels (kernels/).
      kernels.registerWasmTrainingKernels();
      return { tf, ort: null };
    }
    case 'cpu': {
      const tf = (await import('@tensorflow/tfjs')) as Tf;
      await tf.setBackend('cpu');
      await tf.ready();
      return { tf, ort: null };
    }
  }
}

/**
 * Walks the ladder. With a forced backend only that step is tried (the others are 'skipped'); a
 * forced backend that fails is an error, since the user asked for it by name.
 */
export async function loadRuntime(choice: BackendChoice = 'auto'): Promise<LoadedRuntime> {
  const ladder: LadderStep[] = [];
  const forced = choice === 'auto' ? null : choice;
  let loaded: (Engine & { backend: BackendName }) | null = null;
  for (const backend of LADDER) {
    if (loaded) {
      ladder.push({ backend, status: 'not-tried', reason: `${loaded.backend} loaded first` });
      continue;
    }
    if (forced && backend !== forced) {
      ladder.push({ backend, status: 'skipped', reason: `forced backend is ${forced}` });
      continue;
    }
    try {
      const { detail, ...engine } = await tryBackend(backend);
      const reason = forced ? 'forced' : 'first to load';
      ladder.push({ backend, status: 'loaded', reason: detail ? `${reason} (${detail})` : reason });
      loaded = { ...engine, backend };
    } catch (error) {
      // A provider this build of onnxruntime does not have is skipped, not failed.
      const absent = (error as { absent?: boolean }).absent === true;
      ladder.push({ backend, status: absent ? 'skipped' : 'failed', reason: oneLineReason(error) });
    }
  }
  if (!loaded) {
    const failure = new Error(
      `no tfjs backend could be loaded: ${ladder.map((s) => `${s.backend}: ${s.reason}`).join('; ')}`,
    );
    (failure as Error & { ladder?: LadderStep[] }).ladder = ladder;
    throw failure;
  }
  return { ...loaded, ladder };
}
