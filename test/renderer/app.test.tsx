import { afterEach, describe, expect, it, vi } from 'vitest';
import { cleanup, render, screen, waitFor } from '@testing-library/react';
import type { EventName } from '../../src/shared/contract';
import { createApi } from '../../src/shared/client';

/** A transport that answers like a host with one open project: what window.api would return. */
function fakeHost(overrides: Record<string, unknown> = {}) {
  const listeners = new Set<(event: EventName, payload: unknown) => void>();
  const answers: Record<string, unknown> = {
    'app.info': {
      name: 'qataseg',
      version: '0.1.0',
      transport: 'electron',
      node: '20',
      electron: '40',
      platform: 'linux-x64',
    },
    'project.state': {
      projectDir: '/p',
      name: 'chest',
      datasetRoot: null,
      imageCount: 12,
      labelledCount: 3,
      modelCount: 0,
    },
    'worker.status': { state: 'starting', backend: null, ladder: [], lastError: null, restarts: 0 },
    'jobs.list': [],
    // The desktop app's caller is the project's owner: nobody is signed in.
    'auth.me': { user: null },
    // No image has a prediction yet: the first-start banner says what to do.
    'images.list': { total: 0, items: [] },
    ...overrides,
  };
  const api = createApi({
    call: async (method) => answers[method],
    subscribe: (listener) => {
      listeners.add(listener);
      return () => listeners.delete(listener);
    },
    mediaUrl: (kind, id) => `test://${kind}/${id}`,
  });
  const emit = (event: EventName, payload: unknown) => listeners.forEach((l) => l(event, payload));
  return { api, emit };
}

// The review screen draws with Konva on a real canvas, which jsdom lacks: the shell is tested
// here, the screen itself in Chromium (test/e2e/review.spec.ts).
vi.mock('../../src/renderer/src/review/ReviewScreen', () => ({
  ReviewScreen: () => <div data-testid="review-screen" />,
}));

afterEach(() => {
  cleanup();
  vi.resetModules();
  delete window.api;
});

describe('App shell', () => {
  it('shows the project state from window.api and follows worker events', async () => {
    const host = fakeHost();
    window.api = host.api;
    const { App } = await import('../../src/renderer/src/App');
    render(<App />);
    await waitFor(() => expect(screen.getByTestId('project-name').textContent).toBe('chest'));
    expect(screen.getByTestId('image-count').textContent).toBe('12');
    expect(screen.getByTestId('transport').textContent).toBe('desktop');
    expect(screen.getByTestId('review-screen')).toBeTruthy();
    await waitFor(() =>
      expect(screen.getByTestId('first-start-banner').textContent).toContain('No model yet'),
    );
    host.emit('worker.status', {
      state: 'ready',
      backend: 'wasm',
      ladder: [],
      lastError: null,
      restarts: 0,
    });
    await waitFor(() => expect(screen.getByTestId('backend').textContent).toContain('wasm'));
  });

  it('opens the review screen for a team reader, whose project state keeps the folder from them', async () => {
    // What project.state answers a reader under the blind rule (core/team/visibility.ts).
    const host = fakeHost({
      'project.state': {
        projectDir: null,
        name: 'chest',
        datasetRoot: null,
        imageCount: 12,
        labelledCount: 0,
        modelCount: 0,
      },
      'auth.me': { user: { id: 2, name: 'rita', role: 'reader' } },
    });
    window.api = host.api;
    const { App } = await import('../../src/renderer/src/App');
    render(<App />);
    await waitFor(() => expect(screen.getByTestId('project-name').textContent).toBe('chest'));
    await waitFor(() => expect(screen.getByTestId('review-screen')).toBeTruthy());
    expect(screen.queryByTestId('empty-state')).toBeNull();
    // Where the project lives and what it holds are not a reader's: no import, no project summary.
    expect(screen.getByTestId('open-dataset')).toHaveProperty('disabled', true);
    expect(screen.queryByTestId('project-state')).toBeNull();
  });
});
