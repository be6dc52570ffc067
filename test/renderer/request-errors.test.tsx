/**
 * No failed request is dropped: a review state, a comment, a job cancel, a folder pick or an export
 * start that the host did not take shows a message, and what the page shows is the host's state
 * again (never the state the failed request asked for). Against a real host (./real-host.ts).
 */
import { afterEach, describe, expect, it, vi } from 'vitest';
import { cleanup, fireEvent, render, screen, waitFor } from '@testing-library/react';
import { rectMask } from '../unit/project-fixtures';
import { startHost, stopHost } from './real-host';

vi.mock(
  '../../src/renderer/src/review/media',
  async () => (await import('./real-host')).mediaCodec,
);

const W = 32;
const H = 24;

async function host() {
  const started = await startHost(
    [
      { name: 'a.png', split: 'train', gt: rectMask(W, H, 2, 2, 10, 10) },
      { name: 'b.png', split: 'train', gt: rectMask(W, H, 4, 4, 12, 12) },
    ],
    { width: W, height: H },
  );
  const { Notices } = await import('../../src/renderer/src/common/Notices');
  return { ...started, Notices };
}

const alerts = () => screen.queryAllByRole('alert').map((element) => element.textContent ?? '');

afterEach(() => {
  cleanup();
  stopHost();
  vi.restoreAllMocks();
  vi.resetModules();
});

describe('failed requests are shown and the page returns to the host state', () => {
  it('a review state the host did not record says so and shows the state the host has', async () => {
    const { service, ids, failing, review, panels, Notices } = await host();
    render(
      <>
        <panels.ReviewPanel />
        <Notices />
      </>,
    );
    await review.select(ids[0]);
    // Meanwhile another window flagged the image; this page still shows it unreviewed.
    await service.invoke('review.set', { imageId: ids[0], state: 'flagged' });
    failing.add('review.set');
    fireEvent.click(screen.getByTestId('review-state-accepted'));
    await waitFor(() => expect(alerts().join()).toMatch(/Mark accepted failed: Failed to fetch/));
    await waitFor(() =>
      expect(screen.getByTestId('review-state-flagged').getAttribute('aria-checked')).toBe('true'),
    );
    expect(screen.getByTestId('review-state-accepted').getAttribute('aria-checked')).toBe('false');
    expect((await service.invoke('images.get', { id: ids[0] })).reviewState).toBe('flagged');
  });

  it('a comment the host did not save says so, and is saved once the host answers', async () => {
    const { service, ids, failing, review, panels, Notices } = await host();
    render(
      <>
        <panels.ReviewPanel />
        <Notices />
      </>,
    );
    await review.select(ids[0]);
    failing.add('review.set');
    const box = screen.getByTestId('review-comment');
    fireEvent.change(box, { target: { value: 'check the apex' } });
    fireEvent.blur(box);
    await waitFor(() => expect(alerts().join()).toMatch(/Comment not saved: Failed to fetch/));
    expect(screen.getByTestId('comment-status').textContent).toMatch(/not saved/);
    expect((await service.invoke('images.get', { id: ids[0] })).comment).toBe('');
    failing.clear();
    fireEvent.blur(box);
    await waitFor(async () =>
      expect((await service.invoke('images.get', { id: ids[0] })).comment).toBe('check the apex'),
    );
    await waitFor(() => expect(screen.getByTestId('comment-status').textContent).toBe(''));
  });

  it('a cancel the host refused says so and offers Cancel again', async () => {
    const { Notices } = await host();
    const { JobRow } = await import('../../src/renderer/src/jobs/JobsBar');
    const job = {
      id: 'no-such-job',
      kind: 'train' as const,
      state: 'running' as const,
      phase: 'epoch 1/3',
      done: 1,
      total: 3,
      startedAt: new Date().toISOString(),
      finishedAt: null,
      error: null,
      detail: {},
    };
    render(
      <>
        <JobRow job={job} />
        <Notices />
      </>,
    );
    fireEvent.click(screen.getByRole('button', { name: 'Cancel' }));
    await waitFor(() => expect(alerts().join()).toMatch(/Cancel train failed: .*no-such-job/));
    expect(screen.getByRole('button', { name: 'Cancel' })).toBeTruthy();
  });

  it('a folder pick and an export start that fail say so in their dialog', async () => {
    const { failing } = await host();
    const { OpenDatasetDialog } = await import('../../src/renderer/src/dataset/OpenDatasetDialog');
    const { ExportDialog } = await import('../../src/renderer/src/export/ExportDialog');
    // jsdom has no <dialog> methods: the dialogs only need them to open and close.
    HTMLDialogElement.prototype.showModal = function showModal(this: HTMLDialogElement) {
      this.open = true;
    };
    HTMLDialogElement.prototype.close = function close(this: HTMLDialogElement) {
      this.open = false;
    };
    failing.add('system.pickFolder');
    failing.add('export.start');
    render(
      <>
        <OpenDatasetDialog open onClose={() => undefined} />
        <ExportDialog open onClose={() => undefined} />
      </>,
    );
    const [importBrowse, exportBrowse] = screen.getAllByRole('button', { name: 'Browse…' });
    fireEvent.click(importBrowse);
    await waitFor(() => expect(screen.getByTestId('import-error').textContent).toMatch(/fetch/));
    fireEvent.click(exportBrowse);
    await waitFor(() => expect(screen.getByTestId('export-error').textContent).toMatch(/fetch/));
    fireEvent.change(screen.getByTestId('export-out'), { target: { value: '/tmp/out' } });
    fireEvent.click(screen.getByTestId('start-export'));
    // The plan comes first; the failing start is the confirmation's.
    fireEvent.click(await screen.findByTestId('confirm-export'));
    await waitFor(() =>
      expect(screen.getByTestId('export-error').textContent).toMatch(/Failed to fetch/),
    );
  });
});
