/**
 * One temp folder per test run, removed when the run ends: vitest's and Playwright's global setup.
 * Tests make their projects, datasets and servers' folders under os.tmpdir() and many leave them
 * (a killed child's files, folders a test hands to a server); a run left ~200 MB in /tmp and a
 * day's runs 7.5 GB. Pointing TMPDIR at a folder of this run (children and workers inherit it)
 * and removing that folder at the end cleans up after every test at once, passed or failed.
 */
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';

/** The run's temp folder's name prefix, under the system's temp folder. */
export const TEST_RUN_PREFIX = 'qataseg-test-run-';

/** Makes the run's folder and points TMPDIR at it; returns the teardown that removes it. */
export function useRunTempRoot(): () => void {
  const root = fs.mkdtempSync(path.join(os.tmpdir(), TEST_RUN_PREFIX));
  // Like /tmp: tests run children as `nobody` (import-fs-entries) that must reach their folders.
  fs.chmodSync(root, 0o1777);
  const previous = process.env.TMPDIR;
  process.env.TMPDIR = root;
  return () => {
    if (previous === undefined) delete process.env.TMPDIR;
    else process.env.TMPDIR = previous;
    // Retries: a child that outlived its test may still be writing when the run ends.
    fs.rmSync(root, { recursive: true, force: true, maxRetries: 5, retryDelay: 200 });
  };
}

/** vitest's globalSetup: the returned function is its teardown. */
export default function setup(): () => void {
  return useRunTempRoot();
}
