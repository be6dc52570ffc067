import { defineConfig } from 'vitest/config';
import react from '@vitejs/plugin-react';

export default defineConfig({
  test: {
    projects: [
      {
        test: {
          name: 'unit',
          environment: 'node',
          include: ['test/unit/**/*.test.ts', 'test/faults/**/*.test.ts'],
          // Real SQLite, real tfjs and child processes: give them time on 2 shared cores.
          testTimeout: 60_000,
          hookTimeout: 60_000,
          pool: 'forks',
          // Training in tests is deterministic where the engine allows it: one onnxruntime thread
          // and its deterministic kernels (src/core/ml/onnx/runtime.ts), inherited by the worker.
          env: { QATASEG_DETERMINISTIC: '1', QATASEG_THREADS: '1' },
        },
      },
      {
        plugins: [react()],
        test: {
          name: 'renderer',
          environment: 'jsdom',
          include: ['test/renderer/**/*.test.{ts,tsx}'],
        },
      },
    ],
  },
});
