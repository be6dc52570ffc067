/**
 * A restart of the server does not strand an open tab, in Chromium: the page says the connection
 * is lost, keeps an edit that could not be saved meanwhile, reconnects by itself when the server is
 * back on the same port with the same token, saves the kept edit, and follows events again.
 *
 * The server is a real `qataseg serve` process; it is stopped and a new one started on the same
 * project and port, as a user restarts it. The token comes back from the project folder
 * (`server.token`), not from the test.
 */
import fs from 'node:fs';
import path from 'node:path';
import type { ChildProcess } from 'node:child_process';
import { test as base, expect, type Page } from '@playwright/test';
import { startWorkstation, stopWorkstation, tempProjectDir, type Workstation } from './fixtures';
import { seedReviewProject } from './review-seed';

class RestartableServer {
  private child: ChildProcess | null = null;
  private running: Workstation | null = null;
  private port = 0;

  constructor(readonly projectDir: string) {}

  /** Starts `qataseg serve` on the project: on a free port the first time, then on the same one. */
  async start(): Promise<Workstation> {
    const { workstation, child } = await startWorkstation(
      this.projectDir,
      this.port ? ['--port', String(this.port)] : [],
    );
    this.child = child;
    this.running = workstation;
    this.port = Number(new URL(workstation.baseUrl).port);
    return workstation;
  }

  async stop(): Promise<void> {
    if (this.child) await stopWorkstation(this.child);
    this.child = null;
    this.running = null;
  }

  get workstation(): Workstation {
    if (!this.running) throw new Error('the server is not running');
    return this.running;
  }
}

const test = base.extend<object, { host: { server: RestartableServer; ids: number[] } }>({
  host: [
    // eslint-disable-next-line no-empty-pattern -- Playwright fixtures must destructure.
    async ({}, use) => {
      const projectDir = tempProjectDir('qataseg-restart-e2e-');
      const ids = await seedReviewProject(projectDir, { count: 4, size: 160 });
      const server = new RestartableServer(projectDir);
      await server.start();
      await use({ server, ids });
      await server.stop();
      fs.rmSync(projectDir, { recursive: true, force: true });
    },
    { scope: 'worker' },
  ],
});

async function openImage(page: Page, id: number): Promise<void> {
  await page.locator(`[data-testid=worklist-row][data-image-id="${id}"]`).click();
  await expect(page.getByTestId('viewer')).toHaveAttribute('data-image-id', String(id));
  await expect(page.getByTestId('viewer')).toHaveAttribute('data-loading', 'false');
}

interface Detail {
  correctionRevisionId: number | null;
  reviewState: string;
}

test('an edit made while the server was down is saved when it is back, and the page reconnects', async ({
  page,
  host,
}) => {
  const { server, ids } = host;
  const before = server.workstation;
  const tokenFile = path.join(server.projectDir, 'server.token');
  expect(fs.readFileSync(tokenFile, 'utf8').trim()).toBe(before.token);
  await page.setViewportSize({ width: 1400, height: 850 });
  await page.goto(before.url);
  await openImage(page, ids[0]);
  const banner = page.getByTestId('connection-banner');
  await expect(banner).toBeHidden();

  await server.stop();
  await expect(banner).toContainText('reconnecting');

  // A stroke while the server is away: not saved, but kept.
  const box = (await page.getByTestId('viewer').boundingBox())!;
  const x = box.x + box.width / 2 - 60;
  const y = box.y + box.height / 2 - 160;
  await page.mouse.move(x, y);
  await page.mouse.down();
  for (let i = 1; i <= 12; i++) await page.mouse.move(x + i * 10, y + i);
  await page.mouse.up();
  await expect(page.getByTestId('save-status')).toContainText('not saved yet');

  // A new process, same project and port: the token it serves is the one kept in the folder.
  const after = await server.start();
  expect(after.baseUrl).toBe(before.baseUrl);
  expect(after.token).toBe(before.token);
  // Without anything more from the user: reconnected, and the kept edit saved.
  await expect(page.getByTestId('save-status')).toHaveText('saved', { timeout: 30_000 });
  await expect(banner).toBeHidden();
  const saved = await after.call<Detail>('images.get', { id: ids[0] });
  expect(saved.correctionRevisionId).not.toBeNull();

  // Events flow again: another window's review shows in this page's worklist.
  await after.call('review.set', { imageId: ids[1], state: 'flagged' });
  await expect(
    page.locator(`[data-testid=worklist-row][data-image-id="${ids[1]}"]`),
  ).toHaveAttribute('data-state', 'flagged');
});
