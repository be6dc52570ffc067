#!/usr/bin/env node
/**
 * Runs test files again and again and counts the failures of each test: the flake audit of
 * issue 25. One vitest process per run, the files one after another (at most `--parallel` runs at
 * once), results from vitest's JSON reporter, one line per run appended to `--out` (JSON lines)
 * with each test's state and the lines it printed that match `--grep` (a regular expression).
 *
 *   node scripts/flake-audit.mjs --runs 20 [--parallel 1] [--out flake.jsonl] [--grep Spearman] \
 *     test/unit/a.test.ts [test/faults/b.test.ts ...]
 *
 * A file under test/e2e/ runs in Playwright instead (one `playwright test` process per run, its
 * own output folder, results from Playwright's JSON reporter); build first (`electron-vite build`).
 *
 * Load is whatever else the machine runs; add your own (another vitest file, `yes > /dev/null`)
 * to measure under load. Prints per file and test: runs, failures, and durations min/mean/max.
 *
 *   node scripts/flake-audit.mjs --table a.jsonl [b.jsonl ...]
 *
 * prints the Markdown table of test/FLAKE-AUDIT.md from recorded runs instead: per file the runs,
 * the failed runs (a run fails when vitest exits non-zero), the run's wall time and the 1-minute
 * load average at its end (min/mean/max), and the first failure message of each failing test.
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
const tableFrom = option('table', '');
const files = args;
if (tableFrom) {
  printTable([tableFrom, ...files]);
  process.exit(0);
}
if (files.length === 0) {
  console.error('usage: node scripts/flake-audit.mjs --runs N [--parallel P] file...');
  process.exit(2);
}

// One report file per vitest process: parallel runs of different files share a run index.
let reports = 0;
function runOnce(file, index) {
  const report = path.join(os.tmpdir(), `flake-audit-${process.pid}-${reports++}.json`);
  const playwright = isPlaywright(file);
  // Parallel Playwright runs must not share (and wipe) one results folder.
  const outputDir = `${report}.results`;
  return new Promise((resolve) => {
    const started = Date.now();
    const child = playwright
      ? spawn(
          'npx',
          ['playwright', 'test', file, '--reporter=json,list', `--output=${outputDir}`],
          {
            stdio: ['ignore', 'pipe', 'pipe'],
            env: { ...process.env, PLAYWRIGHT_JSON_OUTPUT_FILE: report },
          },
        )
      : spawn(
          'npx',
          [
            'vitest',
            'run',
            file,
            '--reporter=json',
            `--outputFile=${report}`,
            '--reporter=default',
          ],
          { stdio: ['ignore', 'pipe', 'pipe'] },
        );
    let text = '';
    child.stdout.on('data', (chunk) => (text += chunk));
    child.stderr.on('data', (chunk) => (text += chunk));
    child.on('close', (code) => {
      const tests = {};
      try {
        const json = JSON.parse(fs.readFileSync(report, 'utf8'));
        if (playwright) Object.assign(tests, playwrightTests(json));
        else
          for (const result of json.testResults)
            for (const test of result.assertionResults)
              tests[test.fullName] = {
                status: test.status,
                ms: test.duration ?? null,
                ...(test.failureMessages?.length
                  ? { failure: failureLine(test.failureMessages[0]) }
                  : {}),
              };
        fs.rmSync(report, { force: true });
        // A failed run keeps its traces and screenshots, and everything it printed (a server
        // child's stderr reaches only the runner's output, not Playwright's report).
        if (Object.values(tests).every((test) => test.status !== 'failed'))
          fs.rmSync(outputDir, { recursive: true, force: true });
        else {
          fs.mkdirSync(outputDir, { recursive: true });
          fs.writeFileSync(path.join(outputDir, 'output.txt'), text);
        }
      } catch {
        tests['(no report)'] = { status: 'failed', ms: null };
      }
      const printed = grep ? text.split('\n').filter((line) => new RegExp(grep).test(line)) : [];
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

function isPlaywright(file) {
  return file.split(path.sep).join('/').includes('test/e2e/');
}

/**
 * Each test's last result in Playwright's JSON report, named by its describe blocks and title,
 * in vitest's statuses (Playwright's timedOut and interrupted are failures).
 */
function playwrightTests(json) {
  const tests = {};
  const walk = (suite, names) => {
    for (const spec of suite.specs ?? [])
      for (const test of spec.tests ?? []) {
        const result = test.results?.at(-1);
        const status = result?.status ?? 'skipped';
        const message = result?.error?.message ?? result?.errors?.[0]?.message;
        tests[[...names, spec.title].join(' > ')] = {
          status: status === 'passed' || status === 'skipped' ? status : 'failed',
          ms: result?.duration ?? null,
          ...(status !== 'passed' && status !== 'skipped'
            ? { failure: message ? failureLine(stripAnsi(message)) : status }
            : {}),
        };
      }
    for (const child of suite.suites ?? []) walk(child, [...names, child.title]);
  };
  // The file's own suite is named by the file: the audit's lines already say which file.
  for (const suite of json.suites ?? []) walk(suite, []);
  return tests;
}

function stripAnsi(text) {
  return String(text).replace(/\u001b\[[0-9;]*m/g, '');
}

/**
 * The first line of a failure. vitest's timeout error keeps only the stack of the place the test
 * was defined, whose first line is "Error: STACK_TRACE_ERROR" (its message is lost in the JSON
 * report): that is said in words.
 */
function failureLine(message) {
  const line = String(message).split('\n')[0].slice(0, 300);
  return line === 'Error: STACK_TRACE_ERROR' ? 'timed out (vitest test or hook limit)' : line;
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

/** The Markdown table of recorded runs (JSON lines as written by `--out`), one row per file. */
function printTable(jsonl) {
  const byFile = new Map();
  for (const file of jsonl)
    for (const line of fs.readFileSync(file, 'utf8').split('\n')) {
      if (!line.trim()) continue;
      const result = JSON.parse(line);
      const rows = byFile.get(result.file) ?? [];
      rows.push(result);
      byFile.set(result.file, rows);
    }
  const spread = (values, digits) => {
    const mean = values.reduce((a, b) => a + b, 0) / values.length;
    return [Math.min(...values), mean, Math.max(...values)]
      .map((v) => v.toFixed(digits))
      .join(' / ');
  };
  console.log(
    '| file | runs | failed | seconds min / mean / max | load min / mean / max | failures |',
  );
  console.log('| --- | --- | --- | --- | --- | --- |');
  for (const [file, rows] of [...byFile].sort(([a], [b]) => a.localeCompare(b))) {
    const failed = rows.filter((row) => row.code !== 0);
    const messages = new Map();
    for (const row of failed)
      for (const [name, test] of Object.entries(row.tests))
        if (test.status === 'failed') {
          const failure = test.failure ? failureLine(test.failure) : 'failed';
          const key = `${name}: ${failure.replace(/\|/g, '\\|')}`;
          messages.set(key, (messages.get(key) ?? 0) + 1);
        }
    console.log(
      `| ${file} | ${rows.length} | ${failed.length} | ${spread(
        rows.map((r) => r.seconds),
        0,
      )} | ` +
        `${spread(
          rows.map((r) => r.load),
          1,
        )} | ` +
        `${[...messages].map(([message, n]) => `${n}x ${message}`).join('; ')} |`,
    );
  }
}
