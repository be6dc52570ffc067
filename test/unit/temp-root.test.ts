/**
 * Test runs clean up their temp folders: every test's folders live under one folder of the run
 * (TMPDIR, set by test/temp-root.ts as vitest's and Playwright's global setup), removed at the end.
 */
import { execFileSync } from 'node:child_process';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { afterEach, expect, it } from 'vitest';
import { TEST_RUN_PREFIX, useRunTempRoot } from '../temp-root';

const teardowns: (() => void)[] = [];
afterEach(() => {
  for (const teardown of teardowns.splice(0).reverse()) teardown();
});

it("puts this run's temp folders under a folder of the run", () => {
  const runRoot = os.tmpdir();
  expect(path.basename(runRoot).startsWith(TEST_RUN_PREFIX)).toBe(true);
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'qataseg-temp-root-'));
  expect(path.dirname(dir)).toBe(runRoot);
  fs.rmSync(dir, { recursive: true });
});

it("removes the run's folder with what tests and their children left in it", () => {
  const before = os.tmpdir();
  const teardown = useRunTempRoot();
  teardowns.push(teardown);
  const root = os.tmpdir();
  expect(root).not.toBe(before);
  // Reachable by other users, as /tmp is: tests run children as `nobody`.
  expect(fs.statSync(root).mode & 0o7777).toBe(0o1777);

  const project = fs.mkdtempSync(path.join(os.tmpdir(), 'qataseg-project-'));
  fs.writeFileSync(path.join(project, 'project.sqlite'), 'x');
  fs.mkdirSync(path.join(project, 'locked'));
  fs.writeFileSync(path.join(project, 'locked', 'file'), 'y');
  fs.chmodSync(path.join(project, 'locked'), 0o500);
  // A child process inherits the folder through TMPDIR.
  const childDir = execFileSync(
    process.execPath,
    [
      '-e',
      "const fs=require('fs'),os=require('os'),p=require('path');" +
        "const d=fs.mkdtempSync(p.join(os.tmpdir(),'child-'));process.stdout.write(d)",
    ],
    { encoding: 'utf8' },
  );
  expect(path.dirname(childDir)).toBe(root);

  teardowns.pop()!();
  expect(fs.existsSync(root)).toBe(false);
  expect(os.tmpdir()).toBe(before);
});
