/**
 * Where a worker_threads entry of this room is: from source (tsx, tests) a small bootstrap that
 * imports the TypeScript entry through tsx's API; in the built bundle the entry's sibling script
 * (electron.vite.config.ts builds each entry beside the main chunks).
 */
import { existsSync } from 'node:fs';
import { createRequire } from 'node:module';
import path from 'node:path';
import { fileURLToPath, pathToFileURL } from 'node:url';

const require = createRequire(import.meta.url);

/** `source` is `new URL('./<entry>.ts', import.meta.url)` at the caller (the built bundle moves it). */
export function threadScript(source: URL): { script: string; eval: boolean } | null {
  if (existsSync(fileURLToPath(source))) {
    // tsx's ES module API (require.resolve finds its CommonJS twin in the same folder).
    const api = pathToFileURL(
      path.join(path.dirname(require.resolve('tsx/esm/api')), 'index.mjs'),
    ).href;
    const boot = `import(${JSON.stringify(api)}).then((tsx) => tsx.tsImport(${JSON.stringify(source.href)}, ${JSON.stringify(api)}))`;
    return { script: boot, eval: true };
  }
  const built = fileURLToPath(source).replace(/\.ts$/, '.js');
  return existsSync(built) ? { script: built, eval: false } : null;
}
