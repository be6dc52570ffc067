/**
 * Browser sessions, as a user meets them: a second tab without `?token=` gets in by itself; a
 * browser without the token gets a page that says how to get in (and takes a pasted token); the
 * printed address keeps working after `qataseg serve` restarts on the same project.
 */
import fs from 'node:fs';
import net from 'node:net';
import { test, expect } from './fixtures';
import { startWorkstation, stopWorkstation, tempProjectDir } from './fixtures';

function freePort(): Promise<number> {
  return new Promise((resolve, reject) => {
    const server = net.createServer();
    server.once('error', reject);
    server.listen(0, '127.0.0.1', () => {
      const { port } = server.address() as net.AddressInfo;
      server.close(() => resolve(port));
    });
  });
}

test('a second tab opened without ?token= gets in by itself', async ({ page, workstation }) => {
  await page.goto(workstation.url);
  await expect(page.getByTestId('project-name')).not.toHaveText('No project open');
  const second = await page.context().newPage();
  await second.goto(workstation.baseUrl);
  await expect(second.getByTestId('project-name')).not.toHaveText('No project open');
  await expect(second.getByTestId('project-state')).toBeVisible();
  expect(second.url()).not.toContain('token=');
});

test('a browser without the token gets a page that says how to get in', async ({
  browser,
  workstation,
}) => {
  const context = await browser.newContext();
  const page = await context.newPage();
  const response = await page.goto(workstation.baseUrl);
  expect(response?.status()).toBe(401);
  await expect(page.getByRole('heading', { name: /needs its access token/ })).toBeVisible();
  await expect(page.getByText('qataseg serve').first()).toBeVisible();
  // The token pasted into the page opens the workstation.
  await page.getByLabel('Token').fill(workstation.token);
  await page.getByRole('button', { name: 'Open' }).click();
  await expect(page.getByTestId('project-name')).not.toHaveText('No project open');
  await context.close();
});

test('the printed address keeps working after qataseg serve restarts on the project', async ({
  page,
}) => {
  const projectDir = tempProjectDir('qataseg-e2e-restart-');
  const port = String(await freePort());
  let { workstation, child } = await startWorkstation(projectDir, ['--port', port]);
  const printed = workstation.url;
  await page.goto(printed);
  await expect(page.getByTestId('project-name')).not.toHaveText('No project open');
  await stopWorkstation(child);

  ({ workstation, child } = await startWorkstation(projectDir, ['--port', port]));
  try {
    expect(workstation.url).toBe(printed);
    // The open tab's cookie and the printed address are still good.
    await page.reload();
    await expect(page.getByTestId('project-name')).not.toHaveText('No project open');
    const again = await page.context().newPage();
    await again.goto(printed);
    await expect(again.getByTestId('project-name')).not.toHaveText('No project open');
  } finally {
    await stopWorkstation(child);
    fs.rmSync(projectDir, { recursive: true, force: true });
  }
});
