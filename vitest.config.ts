import { defineConfig } from 'vitest/config';
import react from '@vitejs/plugin-react';

export default defineConfig({
  test: {
    // Every test's temp folders live in one folder of the run, removed when it ends.
    globalSetup: ['test/temp-root.ts'],
    projects: [
      {
        test: {
          name: 'unit',
          environment: 'node',
          include: ['test/unit/**/*.test.ts', 'test/faults/**/*.test.ts'],
          // Real SQLite, real tfjs and child processes: give them time on 2 shared cores. The
          // limit is a guard against a hang, set from the flake audit (test/FLAKE-AUDIT.md): at a
          // load average of 18-19 tests under the old 60 s took 57.2 s (cli-any-cwd: a CLI and its
          // worker) and more than 60.2 s (demo-model: timed out). 180 s is 3 times the 60 s the
          // slowest had reached when it was stopped; a test that needs more says so itself.
          testTimeout: 180_000,
          hookTimeout: 180_000,
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
          // Testing Library's waitFor and findBy* limit: 10 s instead of 1 s (see the file).
          setupFiles: ['test/renderer/setup.ts'],
          // vitest's 5 s default failed tests of 6 files at a load average of 16-22 on 2 shared
          // cores (the first render compiles the React tree's modules), and app.test.tsx passed
          // 30 s at 24.6 (quiet: 1.6 s): a guard against a hang, about 4 times the 30 s
          // (test/FLAKE-AUDIT.md).
          testTimeout: 120_000,
          hookTimeout: 120_000,
        },
      },
    ],
  },
});
