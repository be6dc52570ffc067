import { describe, expect, it } from 'vitest';
import { execFileSync } from 'node:child_process';
import path from 'node:path';

const bin = path.resolve(import.meta.dirname, '../../bin/qataseg.mjs');
const run = (...args: string[]) =>
  execFileSync(process.execPath, [bin, ...args], { encoding: 'utf8' });

describe('qataseg CLI', () => {
  it('prints help with its subcommands', () => {
    const help = run('--help');
    expect(help).toContain('serve');
    expect(help).toContain('doctor');
  });

  it('doctor reports versions, the ladder with reasons, and SQLite', () => {
    const report = JSON.parse(run('doctor', '--json')) as {
      node: string;
      sqlite: string;
      backend: string;
      ladder: { backend: string; status: string; reason: string }[];
    };
    expect(report.node).toBe(process.versions.node);
    expect(report.sqlite).toMatch(/^3\.\d+/);
    expect(report.ladder.map((step) => step.backend)).toEqual([
      'tensorflow-gpu',
      'onnxruntime-cuda',
      'onnxruntime-directml',
      'onnxruntime-coreml',
      'tensorflow',
      'onnxruntime',
      'wasm',
      'cpu',
    ]);
    for (const step of report.ladder) expect(step.reason.length).toBeGreaterThan(0);
    expect(report.ladder.find((step) => step.status === 'loaded')?.backend).toBe(report.backend);
  });
});
