/**
 * The first-start banner says what to do next: with no model, Train then Predict (or that a first
 * model is training); with a model that has predicted nothing, Predict; then it goes away.
 */
import { afterEach, describe, expect, it, vi } from 'vitest';
import { act, cleanup, render, screen, waitFor } from '@testing-library/react';
import type { EventName } from '../../src/shared/contract';
import { createApi } from '../../src/shared/client';

function fakeHost() {
  const listeners = new Set<(event: EventName, payload: unknown) => void>();
  const host = { predicted: 0, asked: 0 };
  window.api = createApi({
    call: async (method) => {
      if (method === 'images.list') {
        host.asked++;
        return { total: host.predicted, items: [] };
      }
      if (method === 'jobs.list') return [];
      return null;
    },
    subscribe: (listener) => {
      listeners.add(listener);
      return () => listeners.delete(listener);
    },
    mediaUrl: (kind, id) => `test://${kind}/${id}`,
  });
  const emit = (event: EventName, payload: unknown) =>
    act(() => {
      listeners.forEach((l) => l(event, payload));
    });
  return { host, emit };
}

const project = (modelCount: number) => ({
  projectDir: '/p',
  name: 'chest',
  datasetRoot: '/d',
  imageCount: 12,
  labelledCount: 12,
  modelCount,
});

afterEach(() => {
  cleanup();
  vi.resetModules();
  delete window.api;
});

describe('first-start banner', () => {
  it('guides from no model to training to predicting, then leaves', async () => {
    const { host, emit } = fakeHost();
    const { FirstStartBanner } = await import('../../src/renderer/src/guide/FirstStartBanner');
    const { subscribeToHost, useAppStore } = await import('../../src/renderer/src/store');
    const unsubscribe = subscribeToHost();
    useAppStore.setState({ project: project(0) });
    render(<FirstStartBanner onOpenTraining={() => undefined} />);
    const banner = () => screen.queryByTestId('first-start-banner')?.textContent ?? null;
    await waitFor(() => expect(banner()).toMatch(/No model yet.*1\. Train.*2\. Predict/));

    const train = {
      id: 't',
      kind: 'train',
      state: 'running',
      phase: 'epoch 1/3',
      done: 1,
      total: 3,
      startedAt: '2025-01-01T00:00:00Z',
      finishedAt: null,
      error: null,
      detail: {},
    };
    emit('job.updated', train);
    // The demo predicts by itself once trained: the banner must not send the user to Predict.
    expect(banner()).toMatch(/Training a first model/);
    expect(banner()).not.toMatch(/then Predict/);
    expect(banner()).toMatch(/predicts its images by itself/);

    emit('job.updated', { ...train, state: 'succeeded' });
    emit('project.changed', project(1));
    await waitFor(() => expect(banner()).toMatch(/A model is ready but nothing is predicted/));

    host.predicted = 12;
    emit('images.changed', { reason: 'prediction' });
    await waitFor(() => expect(banner()).toBeNull());
    unsubscribe();
  });

  it('says nothing when predictions exist, even of a model this project did not train', async () => {
    const { host, emit } = fakeHost();
    host.predicted = 5;
    const { FirstStartBanner } = await import('../../src/renderer/src/guide/FirstStartBanner');
    const { useAppStore } = await import('../../src/renderer/src/store');
    useAppStore.setState({ project: project(0) });
    render(<FirstStartBanner onOpenTraining={() => undefined} />);
    await waitFor(() => expect(host.asked).toBe(1));
    // The answer is in once the question's promise chain has run.
    await act(async () => {
      await new Promise((resolve) => setTimeout(resolve, 0));
    });
    expect(screen.queryByTestId('first-start-banner')).toBeNull();
    // Not a vacuous check: once the predictions are gone, the banner comes.
    host.predicted = 0;
    emit('images.changed', { reason: 'import' });
    expect(await screen.findByTestId('first-start-banner')).toBeTruthy();
  });
});
