/**
 * The threaded SIMD wasm build in Node (QATASEG_WASM_THREADS=2): it starts with two XNNPACK
 * threads and the project's kernels give the cpu backend's results on it. Runs in a child process
 * because the threaded module's pthreads live as long as their process (and inherit its flags,
 * so the check is a file, not `-e`).
 */
import { execFileSync } from 'node:child_process';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { describe, expect, it } from 'vitest';

const repoRoot = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '../..');

const CHECK = path.join(repoRoot, 'test', 'fixtures', 'threaded-wasm-check.ts');

describe('threaded wasm backend', () => {
  it('runs with 2 threads and matches cpu', () => {
    const tsx = path.join(repoRoot, 'node_modules', 'tsx', 'dist', 'cli.mjs');
    const stdout = execFileSync(process.execPath, [tsx, CHECK], {
      cwd: repoRoot,
      env: { ...process.env, QATASEG_WASM_THREADS: '2' },
      encoding: 'utf8',
      timeout: 120_000,
    });
    const line = stdout.split('\n').find((l) => l.startsWith('RESULT '));
    expect(line).toBeDefined();
    const result = JSON.parse(line!.slice(7)) as {
      backend: string;
      threads: number;
      failure: string | null;
      worst: number;
    };
    expect(result.failure).toBeNull();
    expect(result.backend).toBe('wasm');
    expect(result.threads).toBe(2);
    expect(result.worst).toBeLessThan(1e-4);
  }, 180_000);
});
