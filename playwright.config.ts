import { defineConfig } from '@playwright/test';
import { chromiumExecutable } from './test/e2e/chromium';

export default defineConfig({
  testDir: 'test/e2e',
  // Every test's temp folders live in one folder of the run, removed when it ends.
  globalSetup: './test/temp-root.ts',
  timeout: 120_000,
  expect: { timeout: 15_000 },
  fullyParallel: false,
  workers: 1,
  retries: 0,
  reporter: [['list']],
  outputDir: 'test-results',
  use: {
    headless: true,
    screenshot: 'only-on-failure',
    trace: 'retain-on-failure',
    launchOptions: {
      executablePath: chromiumExecutable(),
      args: [
        '--no-sandbox',
        '--disable-gpu',
        '--disable-background-networking',
        '--disable-component-update',
        '--disable-sync',
        '--no-first-run',
        '--disable-quic',
      ],
    },
  },
});
