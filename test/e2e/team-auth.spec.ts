/**
 * `qataseg serve --team` in Chromium, as people use it: the first admin (added with `qataseg user
 * add`) signs in on the sign-in page, adds a reader in Admin > Users and reads their one-time
 * password off the page, and gives them a reading plan; the reader signs in in a second browser
 * context and sees their queue; the admin disables them, and the reader's page says at once that it
 * is signed out. The admin's Audit view lists what happened.
 */
import fs from 'node:fs';
import { test, expect } from '@playwright/test';
import { addTeamUser, signIn, startWorkstation, stopWorkstation, tempProjectDir } from './fixtures';
import { seedReviewProject } from './review-seed';

test('admin adds a reader, the reader signs in, the admin disables them and the reader is signed out', async ({
  browser,
}) => {
  const projectDir = tempProjectDir('qataseg-team-e2e-');
  await seedReviewProject(projectDir, { count: 3, size: 128 });
  const admin = { password: await addTeamUser(projectDir, 'ada', 'admin') };
  const { workstation, child } = await startWorkstation(projectDir, ['--team']);
  try {
    const adminContext = await browser.newContext();
    const adminPage = await adminContext.newPage();
    await signIn(adminPage, workstation.baseUrl, 'ada', admin.password);
    await expect(adminPage.getByTestId('signed-in-as')).toHaveText('signed in as ada (admin)');

    await adminPage.getByTestId('open-admin').click();
    await adminPage.getByTestId('user-name').fill('rita');
    await adminPage.getByTestId('user-role').selectOption('reader');
    await adminPage.getByTestId('user-add').click();
    const password = (await adminPage.getByTestId('user-password').textContent()) ?? '';
    expect(password.length).toBeGreaterThan(8);
    await expect(adminPage.getByTestId('user-row-rita')).toContainText('enabled');

    // A plan gives the reader a queue (a reader's worklist is the images assigned to them).
    await adminPage.getByTestId('admin-close').click();
    await adminPage.locator('body').press('Shift+R');
    const plans = adminPage.getByTestId('plans-dialog');
    await plans.getByTestId('plan-create').click();
    await expect(plans.getByTestId('plan-1')).toContainText('3 images, all readers');
    await plans.getByRole('button', { name: 'Close', exact: true }).click();
    await adminPage.getByTestId('open-admin').click();

    const readerContext = await browser.newContext();
    const readerPage = await readerContext.newPage();
    await signIn(readerPage, workstation.baseUrl, 'rita', password);
    await expect(readerPage.getByTestId('signed-in-as')).toHaveText('signed in as rita (reader)');
    await expect(readerPage.getByTestId('open-admin')).toHaveCount(0);
    await expect(readerPage.getByTestId('signed-out')).toHaveCount(0);
    await expect(readerPage.getByTestId('worklist-queue')).toHaveText('0 of 3 read');

    await adminPage.getByTestId('user-disable-rita').click();
    await expect(adminPage.getByTestId('user-row-rita')).toContainText('disabled');

    // Disabling ends her session at once: her page hears it before she does anything.
    await expect(readerPage.getByTestId('signed-out')).toBeVisible();
    const refused = await readerPage.request.post(`${workstation.baseUrl}api/auth.me`, {
      headers: { 'x-qataseg-token': '' },
      data: {},
    });
    expect(refused.status()).toBe(401);

    await adminPage.getByTestId('admin-audit-tab').click();
    await expect(adminPage.getByTestId('admin-audit')).toContainText('users.disable');
    await expect(adminPage.getByTestId('admin-audit')).toContainText('users.add');

    // Sign out ends the admin's session too.
    await adminPage.getByTestId('admin-close').click();
    await adminPage.getByTestId('sign-out').click();
    await expect(adminPage).toHaveURL(/\/login$/);
    await adminPage.goto(workstation.baseUrl);
    await expect(adminPage).toHaveURL(/\/login$/);
    await adminContext.close();
    await readerContext.close();
  } finally {
    await stopWorkstation(child);
    fs.rmSync(projectDir, { recursive: true, force: true });
  }
});
