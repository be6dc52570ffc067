#!/usr/bin/env node
/**
 * Runs test files again and again and counts the failures of each test: the flake audit of
 * issue 25. One vitest process per run, the files one after another (at most `--parallel` runs at
 * once), results from vitest's JSON reporter, one line per run appended to `--out` (JSON lines)
 * with each test's state and the lines it printed that match `--grep`.
 *
 *   node scripts/flake-audit.mjs --runs 20 [--parallel 1] [--out flake.jsonl] [--grep Spearman] \
 *     test/unit/a.test.ts [test/faults/b.test.ts ...]
 *
 * Load is whatever else the machine runs; add your own (another vitest file, `yes > /dev/null`)
 * to measure under load. Prints per file and test: runs, failures, and durations min/mean/max.
 */
import { spawn } from 'node:child_process';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';

const args = process.argv.slice(2);
function option(name, fallback) {
  const index = args.indexOf(`--${name}`);
  if (index < 0) return fallback;
  const [value] = args.splice(index, 2).slice(1);
  return value;
}
const runs = Number(option('runs', '20'));
const parallel = Number(option('parallel', '1'));
const out = option('out', '');
const grep = option('grep', '');
const files = args;
if (files.length === 0) {
  console.error('usage: node scripts/flake-audit.mjs --runs N [--parallel P] file...');
  process.exit(2);
}

function runOnce(file, index) {
  const report = path.join(os.tmpdir(), `flake-audit-${process.pid}-${index}.json`);
  return new Promise((resolve) => {
    const started = Date.now();
    const child = spawn(
      'npx',
      ['vitest', 'run', file, '--reporter=json', `--outputFile=${report}`, '--reporter=default'],
      { stdio: ['ignore', 'pipe', 'pipe'] },
    );
    let text = '';
    child.stdout.on('data', (chunk) => (text += chunk));
    child.stderr.on('data', (chunk) => (text += chunk));
    child.on('close', (code) => {
      const tests = {};
      try {
        const json = JSON.parse(fs.readFileSync(report, 'utf8'));
        for (const result of json.testResults)
          for (const test of result.assertionResults)
            tests[test.fullName] = {
              status: test.status,
              ms: test.duration ?? null,
              ...(test.failureMessages?.length
                ? { failure: String(test.failureMessages[0]).split('\n')[0].slice(0, 300) }
                : {}),
            };
        fs.rmSync(report, { force: true });
      } catch {
        tests['(no report)'] = { status: 'failed', ms: null };
      }
      const printed = grep ? text.split('\n').filter((line) => line.includes(grep)) : [];
      resolve({
        file,
        run: index,
        code,
        seconds: (Date.now() - started) / 1000,
        load: os.loadavg()[0],
        tests,
        printed,
      });
    });
  });
}

const queue = [];
for (let run = 0; run < runs; run++) for (const file of files) queue.push([file, run]);
const results = [];
async function worker() {
  for (;;) {
    const next = queue.shift();
    if (!next) return;
    const result = await runOnce(next[0], next[1]);
    results.push(result);
    if (out) fs.appendFileSync(out, JSON.stringify(result) + '\n');
    const failed = Object.entries(result.tests).filter(([, t]) => t.status !== 'passed');
    console.log(
      `${result.file} run ${result.run}: exit ${result.code}, ${result.seconds.toFixed(0)} s, ` +
        `load ${result.load.toFixed(1)}` +
        failed.map(([name, t]) => `\n  FAILED ${name}: ${t.failure ?? t.status}`).join('') +
        (result.printed.length ? `\n  ${result.printed.join('\n  ')}` : ''),
    );
  }
}
await Promise.all(Array.from({ length: parallel }, worker));

const table = new Map();
for (const result of results)
  for (const [name, test] of Object.entries(result.tests)) {
    const key = `${result.file} > ${name}`;
    const entry = table.get(key) ?? { runs: 0, failed: 0, ms: [] };
    entry.runs++;
    if (test.status !== 'passed' && test.status !== 'skipped' && test.status !== 'pending')
      entry.failed++;
    if (test.ms != null) entry.ms.push(test.ms);
    table.set(key, entry);
  }
console.log('\nfailed/runs  ms min/mean/max  test');
for (const [key, entry] of table) {
  const ms = entry.ms;
  const mean = ms.reduce((a, b) => a + b, 0) / Math.max(1, ms.length);
  console.log(
    `${entry.failed}/${entry.runs}  ${Math.min(...ms).toFixed(0)}/${mean.toFixed(0)}/${Math.max(...ms).toFixed(0)}  ${key}`,
  );
}
