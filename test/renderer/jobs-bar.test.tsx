/**
 * The jobs bar: a running job has its own row; finished jobs fold into one line that clears
 * itself; a failed job stays with its reason until dismissed, also across a reload of the page.
 */
import { afterEach, describe, expect, it, vi } from 'vitest';
import { act, cleanup, fireEvent, render, screen } from '@testing-library/react';
import type { EventName, Job } from '../../src/shared/contract';
import { createApi } from '../../src/shared/client';

function job(id: string, kind: Job['kind'], state: Job['state'], error: string | null = null): Job {
  return {
    id,
    kind,
    state,
    phase: state === 'running' ? 'decoding' : state,
    done: 1,
    total: 4,
    startedAt: `2025-01-01T00:00:0${id.length}Z`,
    finishedAt: state === 'running' ? null : '2025-01-01T00:01:00Z',
    error,
    detail: {},
  };
}

/** A host whose job events the test sends. */
function fakeHost() {
  const listeners = new Set<(event: EventName, payload: unknown) => void>();
  window.api = createApi({
    call: async (method) => (method === 'jobs.list' ? [] : null),
    subscribe: (listener) => {
      listeners.add(listener);
      return () => listeners.delete(listener);
    },
    mediaUrl: (kind, id) => `test://${kind}/${id}`,
  });
  return (value: Job) =>
    act(() => {
      listeners.forEach((l) => l('job.updated', value));
    });
}

async function mountBar() {
  const { JobsBar, FINISHED_LINE_MS } = await import('../../src/renderer/src/jobs/JobsBar');
  const { subscribeToHost } = await import('../../src/renderer/src/store');
  const unsubscribe = subscribeToHost();
  render(<JobsBar />);
  return { FINISHED_LINE_MS, unsubscribe };
}

afterEach(() => {
  cleanup();
  vi.useRealTimers();
  vi.resetModules();
  sessionStorage.clear();
  delete window.api;
});

describe('jobs bar', () => {
  it('folds finished jobs into one line that clears itself; failures stay until dismissed', async () => {
    vi.useFakeTimers();
    const update = fakeHost();
    const { FINISHED_LINE_MS, unsubscribe } = await mountBar();

    update(job('a', 'import', 'running'));
    update(job('bb', 'predict', 'running'));
    expect(screen.getAllByRole('progressbar')).toHaveLength(2);

    update(job('a', 'import', 'succeeded'));
    update(job('ccc', 'train', 'failed', 'out of memory at epoch 2'));
    update(job('bb', 'predict', 'cancelled'));
    const folded = screen.getByTestId('jobs-finished');
    expect(folded.textContent).toMatch(/2 jobs finished: .*import done/);
    expect(folded.textContent).toMatch(/predict cancelled/);
    expect(screen.queryAllByRole('progressbar')).toHaveLength(0);
    expect(screen.getByTestId('job-train').textContent).toContain('out of memory at epoch 2');

    act(() => {
      vi.advanceTimersByTime(FINISHED_LINE_MS + 10);
    });
    expect(screen.queryByTestId('jobs-finished')).toBeNull();
    // The failure does not clear itself.
    act(() => {
      vi.advanceTimersByTime(10 * FINISHED_LINE_MS);
    });
    expect(screen.getByTestId('job-train').textContent).toContain('out of memory');
    fireEvent.click(screen.getByRole('button', { name: 'Dismiss' }));
    expect(screen.queryByTestId('job-train')).toBeNull();
    expect(screen.queryByTestId('jobs-bar')).toBeNull();
    unsubscribe();

    // A reload of the page (the host still lists the failed job): dismissed stays dismissed.
    cleanup();
    vi.resetModules();
    const again = fakeHost();
    const remounted = await mountBar();
    again(job('ccc', 'train', 'failed', 'out of memory at epoch 2'));
    expect(screen.queryByTestId('job-train')).toBeNull();
    again(job('dddd', 'export', 'failed', 'disk full'));
    expect(screen.getByTestId('job-export').textContent).toContain('disk full');
    remounted.unsubscribe();
  });
});
