import { dirname, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';

const root = dirname(fileURLToPath(import.meta.url));
import { defineConfig } from 'electron-vite';
import react from '@vitejs/plugin-react';

export default defineConfig({
  main: {
    // Node-side dependencies (better-sqlite3, tfjs, sharp) stay in node_modules. Besides Electron's
    // main and the ML worker, the CLI is bundled too, so `node out/main/cli.js serve` runs what a
    // packaged app runs. Shared chunks sit beside the entries: code that finds files relative to
    // import.meta.url (package.json, worker.js) sees the same folder from every chunk.
    build: {
      externalizeDeps: true,
      rollupOptions: {
        input: {
          index: resolve(root, 'src/main/index.ts'),
          worker: resolve(root, 'src/worker/index.ts'),
          cli: resolve(root, 'src/cli/index.ts'),
          // The training loop's loader thread (src/core/ml/batch-loader.ts finds it beside itself).
          'batch-thread': resolve(root, 'src/core/ml/batch-thread.ts'),
          // A training step's replica threads (src/core/ml/onnx/replicas.ts finds them beside itself).
          'replica-thread': resolve(root, 'src/core/ml/onnx/replica-thread.ts'),
        },
        output: { chunkFileNames: '[name]-[hash].js' },
      },
    },
  },
  preload: {
    // A sandboxed preload can require only 'electron': bundle everything else, as CommonJS.
    build: {
      externalizeDeps: false,
      rollupOptions: {
        input: { index: resolve(root, 'src/preload/index.ts') },
        external: ['electron'],
        output: { format: 'cjs', entryFileNames: '[name].cjs' },
      },
    },
  },
  renderer: {
    root: resolve(root, 'src/renderer'),
    plugins: [react()],
    build: {
      rollupOptions: { input: resolve(root, 'src/renderer/index.html') },
    },
  },
});
