/**
 * A restart of the server does not strand an open tab, in Chromium: the page says the connection
 * is lost, keeps an edit that could not be saved meanwhile, reconnects by itself when the server is
 * back on the same port with the same token, saves the kept edit, and follows events again.
 *
 * The server runs in this process (the same `startServer` and service `qataseg serve` uses) so it
 * can come back with the same token on the same port.
 */
import fs from 'node:fs';
import { test as base, expect, type Page } from '@playwright/test';
import { createService, type Service } from '../../src/core/service';
import { rendererDir } from '../../src/core/environment';
import { startServer, type RunningServer } from '../../src/server/server';
import { tempProjectDir } from './fixtures';
import { seedReviewProject } from './review-seed';

const TOKEN = 'restart-spec-token-0123456789abcdef';

class RestartableServer {
  private service: Service | null = null;
  private server: RunningServer | null = null;
  port = 0;

  constructor(readonly projectDir: string) {}

  async start(): Promise<void> {
    this.service = createService({ transport: 'http', projectDir: this.projectDir });
    this.server = await startServer({
      service: this.service,
      port: this.port,
      token: TOKEN,
      staticDir: rendererDir(),
    });
    this.port = this.server.port;
  }

  async stop(): Promise<void> {
    await this.server?.close();
    this.service?.close();
    this.server = null;
    this.service = null;
  }

  get url(): string {
    return this.server!.urlWithToken;
  }

  async call<T>(method: string, input: unknown = {}): Promise<T> {
    return (await this.service!.call(method, input)) as T;
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
  await page.setViewportSize({ width: 1400, height: 850 });
  await page.goto(server.url);
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

  await server.start();
  // Without anything more from the user: reconnected, and the kept edit saved.
  await expect(page.getByTestId('save-status')).toHaveText('saved', { timeout: 30_000 });
  await expect(banner).toBeHidden();
  const saved = await server.call<Detail>('images.get', { id: ids[0] });
  expect(saved.correctionRevisionId).not.toBeNull();

  // Events flow again: another window's review shows in this page's worklist.
  await server.call('review.set', { imageId: ids[1], state: 'flagged' });
  await expect(
    page.locator(`[data-testid=worklist-row][data-image-id="${ids[1]}"]`),
  ).toHaveAttribute('data-state', 'flagged');
});
