import { test, expect } from './fixtures';

test('the workstation loads in Chromium and talks to the server over the token', async ({
  page,
  workstation,
}) => {
  await page.goto(workstation.url);
  await expect(page.getByText('QaTa Seg Workstation').first()).toBeVisible();
  // The project name comes from project.state over HTTP: proof the token reached the API.
  await expect(page.getByTestId('project-name')).not.toHaveText('No project open');
  await expect(page.getByTestId('transport')).toHaveText('browser mode');
  // The token left the address bar but the session keeps working after a reload.
  expect(page.url()).not.toContain('token=');
  await page.reload();
  await expect(page.getByTestId('project-state')).toBeVisible();
  // The ML worker reports its backend over the event socket or on request.
  await expect(page.getByTestId('backend')).toContainText(/onnxruntime|wasm|cpu|tensorflow/, {
    timeout: 60_000,
  });
});

test('without the token the server answers 401 and serves nothing', async ({
  request,
  workstation,
}) => {
  const page = await request.get(workstation.baseUrl);
  expect(page.status()).toBe(401);
  const api = await request.post(`${workstation.baseUrl}api/app.info`, { data: {} });
  expect(api.status()).toBe(401);
});

test('a project started with --demo opens on the generated demo dataset', async ({
  page,
  demoWorkstation,
}) => {
  const state = await demoWorkstation.call<{ imageCount: number; labelledCount: number }>(
    'project.state',
  );
  expect(state.imageCount).toBe(120);
  expect(state.labelledCount).toBe(120);
  await page.goto(demoWorkstation.url);
  await expect(page.getByTestId('image-count')).toHaveText('120');
  await expect(page.getByTestId('labelled-count')).toHaveText('120');
});
