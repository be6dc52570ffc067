/**
 * onnxruntime's GPU providers on the ladder: here (no GPU, no CUDA provider library) each is
 * skipped with a reason that names what is missing and the CPU step is chosen; the self-check
 * admits a provider that computes what the CPU provider computes (the CPU provider itself) and
 * refuses one whose results differ (a real session whose outputs are nudged by 1%).
 */
import { createRequire } from 'node:module';
import type * as OrtModule from 'onnxruntime-node';
import { describe, expect, it } from 'vitest';
import { LADDER, loadRuntime } from '../../src/core/ml/backends';
import {
  GPU_RUNGS,
  ProviderRefused,
  SELF_CHECK_TOLERANCE,
  providerAbsence,
  selfCheckProvider,
  type SessionFactory,
} from '../../src/core/ml/onnx/providers';

const ort = createRequire(import.meta.url)('onnxruntime-node') as typeof OrtModule;

describe('GPU providers on the ladder', () => {
  it('stand above the CPU steps, each skipped here with what is missing, and the CPU step loads', async () => {
    expect(LADDER.slice(0, 4)).toEqual([
      'tensorflow-gpu',
      'onnxruntime-cuda',
      'onnxruntime-directml',
      'onnxruntime-coreml',
    ]);
    const runtime = await loadRuntime('auto');
    const step = (name: string) => runtime.ladder.find((entry) => entry.backend === name);
    const platform = `${process.platform}-${process.arch}`;
    if (process.platform !== 'win32') {
      expect(step('onnxruntime-directml')).toEqual({
        backend: 'onnxruntime-directml',
        status: 'skipped',
        reason: expect.stringMatching(
          new RegExp(`for ${platform} has no DirectML provider \\(it ships in the win32 build`),
        ) as string,
      });
    }
    if (process.platform !== 'darwin') {
      expect(step('onnxruntime-coreml')?.status).toBe('skipped');
      expect(step('onnxruntime-coreml')?.reason).toContain('CoreML provider');
    }
    // This machine has no CUDA provider library: skipped, saying how it would come.
    const cuda = providerAbsence(ort, GPU_RUNGS[0]);
    if (cuda) {
      expect(step('onnxruntime-cuda')).toMatchObject({ status: 'skipped', reason: cuda });
      expect(cuda).toMatch(/CUDA/);
      const tensorflowLoaded = runtime.ladder.some(
        (entry) => entry.backend.startsWith('tensorflow') && entry.status === 'loaded',
      );
      if (!tensorflowLoaded) {
        expect(runtime.backend).toBe('onnxruntime');
        expect(step('onnxruntime')?.reason).toContain('CPU provider');
      }
    }
  }, 60_000);

  it('admits a provider whose inference and training step match the CPU provider', async () => {
    const check = await selfCheckProvider(ort, 'cpu');
    expect(check.inferenceError).toBeLessThanOrEqual(SELF_CHECK_TOLERANCE);
    expect(check.trainingError).toBeLessThanOrEqual(SELF_CHECK_TOLERANCE);
  }, 60_000);

  it('refuses a provider whose results differ from the CPU provider by more than 1e-3', async () => {
    // Real CPU sessions whose outputs come back 1% off, as a faulty provider's would.
    const nudged =
      (only: 'probabilities' | 'grad'): SessionFactory =>
      async (bytes, options) => {
        const session = await ort.InferenceSession.create(bytes, {
          ...options,
          executionProviders: ['cpu'],
        });
        return {
          release: () => session.release(),
          run: async (feeds) => {
            const out = await session.run(feeds);
            for (const [name, tensor] of Object.entries(out)) {
              if (!name.startsWith(only)) continue;
              const data = tensor.data as Float32Array;
              for (let i = 0; i < data.length; i++) data[i] *= 1.01;
            }
            return out;
          },
        };
      };
    await expect(selfCheckProvider(ort, 'cpu', nudged('probabilities'))).rejects.toSatisfy(
      (error: unknown) =>
        error instanceof ProviderRefused &&
        !error.absent &&
        /its inference differs .* relative error of 1\.0e-2 \(limit 0\.001\)/.test(error.message),
    );
    await expect(selfCheckProvider(ort, 'cpu', nudged('grad'))).rejects.toThrow(
      /its training step differs/,
    );
  }, 60_000);

  it('refuses a provider whose session cannot be created, with its error', async () => {
    const failing: SessionFactory = () =>
      Promise.reject(new Error('Failed to load shared library\nmore detail'));
    await expect(selfCheckProvider(ort, 'cuda', failing)).rejects.toThrow(
      /^Failed to load shared library$/,
    );
  }, 60_000);
});
