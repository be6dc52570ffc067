/**
 * The Training panel under jsdom against a fake host (the contract's own client over a transport
 * that answers like the host): memory refusal, the start request it builds, live curves fed by
 * `job.updated` events, the comparison, and the active-learning badges.
 */
import { afterEach, describe, expect, it, vi } from 'vitest';
import { act, cleanup, fireEvent, render, screen, waitFor } from '@testing-library/react';
import type { EventName, Job } from '../../src/shared/contract';
import { createApi } from '../../src/shared/client';
import type { ModelComparison, ModelSummary } from '../../src/shared/contract-ml';
import {
  appendStep,
  formatDuration,
  queueBadge,
  stepPoint,
  trainingView,
  bestRecord,
} from '../../src/renderer/src/training/training-model';

function summary(version: string, patch: Partial<ModelSummary> = {}): ModelSummary {
  return {
    version,
    state: 'complete',
    active: false,
    createdAt: '2026-01-01T00:00:00Z',
    parent: null,
    base: 8,
    size: 64,
    backend: 'wasm',
    epochs: 1,
    epochsDone: 1,
    valDice: 0.5,
    testDice: 0.5,
    ...patch,
  };
}

const comparison: ModelComparison = {
  a: 'v1',
  b: 'v2',
  sameTestSplit: true,
  splits: {
    val: { a: { dice: 0.4, iou: 0.3 }, b: { dice: 0.6, iou: 0.45 } },
    test: { a: { dice: 0.41, iou: 0.31 }, b: { dice: 0.62, iou: 0.47 } },
  },
  perImage: [
    { imageId: 1, image: 'a.png', a: 0.2, b: 0.7, delta: 0.5 },
    { imageId: 2, image: 'b.png', a: 0.6, b: 0.5, delta: -0.1 },
  ],
  wins: 7,
  losses: 2,
  ties: 1,
};

function fakeHost(
  initial: ModelSummary[] = [summary('v1', { active: true }), summary('v2', { parent: 'v1' })],
) {
  const listeners = new Set<(event: EventName, payload: unknown) => void>();
  const calls: { method: string; input: unknown }[] = [];
  let models = initial;
  const addIncomplete = () => {
    models = [...models, summary('v3', { state: 'incomplete', epochs: 5, epochsDone: 2 })];
  };
  const answer = (method: string, input: unknown): unknown => {
    switch (method) {
      case 'models.list':
        return models;
      case 'train.estimate': {
        const { size, base, batch } = input as { size: number; base: number; batch: number };
        const bytes = size * size * base * batch * 400;
        const limit = 4 * 2 ** 30;
        return {
          bytes,
          limit,
          fits: bytes <= limit,
          backend: 'wasm',
          message: bytes <= limit ? null : 'needs 9.9 GiB of 4 GiB: try batch 2 or base 16',
        };
      }
      case 'models.compare':
        return comparison;
      case 'train.start':
        return job({ state: 'running' });
      case 'predict.start':
        return job({
          id: 'job-p2',
          kind: 'predict',
          phase: 'predicting',
          startedAt: '2026-01-02T00:00:00Z',
        });
      case 'changes.start':
        return job({ id: 'job-9', kind: 'compare', state: 'running', phase: 'queued' });
      case 'models.promote':
        models = models.map((m) => ({ ...m, active: m.version === 'v2' }));
        return { active: 'v2' };
      case 'worker.status':
        return { state: 'ready', backend: 'wasm', ladder: [], lastError: null, restarts: 0 };
      case 'jobs.list':
        return [];
      case 'images.list':
        return { items: [], total: 0 };
      default:
        return null;
    }
  };
  const api = createApi({
    call: (method, input) => {
      calls.push({ method, input });
      return Promise.resolve(answer(method, input));
    },
    subscribe: (listener) => {
      listeners.add(listener);
      return () => listeners.delete(listener);
    },
    mediaUrl: (kind, id) => `test://${kind}/${id}`,
  });
  const emit = (event: EventName, payload: unknown) => listeners.forEach((l) => l(event, payload));
  return { api, emit, calls, addIncomplete };
}

function job(patch: Partial<Job> & { detail?: Record<string, unknown> }): Job {
  return {
    id: 'job-1',
    kind: 'train',
    state: 'running',
    phase: 'starting',
    done: 0,
    total: null,
    startedAt: '2026-01-01T00:00:00Z',
    finishedAt: null,
    error: null,
    detail: {},
    ...patch,
  };
}

afterEach(() => {
  cleanup();
  vi.resetModules();
  delete window.api;
});

async function mountPanel(models?: ModelSummary[], readOnly: string | null = null) {
  const host = fakeHost(models);
  window.api = host.api;
  const { TrainingPanel } = await import('../../src/renderer/src/training/TrainingPanel');
  const { subscribeToHost, useAppStore } = await import('../../src/renderer/src/store');
  useAppStore.setState({
    project: {
      projectDir: '/projects/p',
      name: 'p',
      datasetRoot: null,
      imageCount: 2,
      labelledCount: 2,
      modelCount: 2,
      readOnly,
    },
  });
  const unsubscribe = subscribeToHost();
  render(<TrainingPanel open onClose={() => undefined} />);
  await waitFor(() => expect(screen.getAllByTestId('version-row')).toHaveLength(2));
  return { ...host, unsubscribe };
}

describe('training model helpers', () => {
  it('reads a job detail into curve data and de-duplicates step points', () => {
    const view = trainingView(
      job({
        detail: {
          version: 'v3',
          backend: 'wasm',
          epoch: 2,
          epochs: 4,
          step: 5,
          steps: 10,
          loss: 0.7,
          history: [{ epoch: 1, loss: 0.9, valDice: 0.3, seconds: 3, imagesPerSecond: 6 }, 'junk'],
        },
      }),
    );
    expect(view.history).toHaveLength(1);
    const point = stepPoint(view);
    expect(point).toEqual({ x: 1.5, loss: 0.7 });
    const once = appendStep([], point);
    expect(appendStep(once, point)).toBe(once);
    expect(appendStep(once, { x: 1.6, loss: 0.6 })).toHaveLength(2);
    expect(stepPoint(trainingView(job({ detail: { epoch: 1 } })))).toBeNull();
  });

  it('names the epoch the version keeps: the best validation Dice, not the last', () => {
    const history = [
      { epoch: 1, loss: 0.9, valDice: 0.5, seconds: 3, imagesPerSecond: 6 },
      { epoch: 2, loss: 0.8, valDice: 0.769, seconds: 3, imagesPerSecond: 6 },
      { epoch: 3, loss: 0.7, valDice: 0.765, seconds: 3, imagesPerSecond: 6 },
    ];
    const view = trainingView(job({ detail: { history, bestEpoch: 2 } }));
    expect(bestRecord(view)?.valDice).toBe(0.769);
    expect(bestRecord(trainingView(job({ detail: { history } })))).toBeNull();
    expect(formatDuration(75)).toBe('1 min 15 s');
  });

  it('says why an image is queued, only under a queue sort with a figure', () => {
    const item = { uncertainty: 0.4567, disagreement: 0.25, changed: 0.0312 };
    expect(queueBadge(item, 'uncertainty')?.label).toBe('uncertain 0.46');
    expect(queueBadge(item, 'disagreement')?.label).toBe('versions disagree 25%');
    expect(queueBadge(item, 'changed')?.label).toBe('changed 3.1%');
    expect(queueBadge(item, 'dice')).toBeNull();
    expect(queueBadge({ ...item, changed: null }, 'changed')).toBeNull();
  });
});

describe('Training panel', () => {
  it('refuses a configuration that cannot fit and starts a fine-tune of the active version', async () => {
    const { calls } = await mountPanel();
    await waitFor(() => expect(screen.getByTestId('train-estimate').textContent).toMatch(/Memory/));
    fireEvent.change(screen.getByTestId('train-size'), { target: { value: '1024' } });
    fireEvent.change(screen.getByTestId('train-batch'), { target: { value: '64' } });
    await waitFor(() => expect(screen.getByRole('alert').textContent).toMatch(/try batch 2/));
    expect(screen.getByTestId<HTMLButtonElement>('train-start').disabled).toBe(true);

    fireEvent.click(screen.getByTestId('mode-fine-tune'));
    // Fine-tuning keeps the active version's architecture.
    await waitFor(() =>
      expect(screen.getByTestId<HTMLInputElement>('train-size').value).toBe('64'),
    );
    fireEvent.change(screen.getByTestId('train-batch'), { target: { value: '4' } });
    fireEvent.change(screen.getByTestId('train-epochs'), { target: { value: '2' } });
    fireEvent.click(screen.getByTestId('label-ground-truth'));
    fireEvent.change(screen.getByTestId('train-promote'), { target: { value: 'never' } });
    await waitFor(() =>
      expect(screen.getByTestId<HTMLButtonElement>('train-start').disabled).toBe(false),
    );
    fireEvent.click(screen.getByTestId('train-start'));
    await waitFor(() => expect(calls.some((c) => c.method === 'train.start')).toBe(true));
    expect(calls.find((c) => c.method === 'train.start')?.input).toMatchObject({
      epochs: 2,
      size: 64,
      base: 8,
      batch: 4,
      labels: ['accepted', 'corrected'],
      from: 'active',
      promote: 'never',
      inputMode: 'resize',
    });
  });

  it('draws curve points as job updates arrive, and compares the new version', async () => {
    const { emit, unsubscribe } = await mountPanel();
    // The host merges each progress update into the job's detail (src/core/jobs.ts).
    let detail: Record<string, unknown> = {
      version: 'v3',
      backend: 'wasm',
      epochs: 2,
      history: [],
    };
    const update = (phase: string, patch: Record<string, unknown>) => {
      detail = { ...detail, ...patch };
      act(() => emit('job.updated', job({ phase, detail })));
    };
    const history: unknown[] = [];
    for (let epoch = 1; epoch <= 2; epoch++) {
      for (let step = 1; step <= 4; step++) {
        update(`epoch ${epoch}/2`, {
          epoch,
          step,
          steps: 4,
          loss: 1 / (epoch * step),
          etaSeconds: 9,
        });
      }
      history.push({
        epoch,
        loss: 1 / epoch,
        valDice: 0.3 * epoch,
        seconds: 1,
        imagesPerSecond: 5,
      });
      update(`epoch ${epoch}/2`, { history: [...history], valDice: 0.3 * epoch });
      expect(screen.getAllByTestId('loss-point')).toHaveLength(epoch);
    }
    const curves = screen.getByTestId('training-curves');
    expect(curves.getAttribute('data-steps')).toBe('8');
    expect(screen.getAllByTestId('dice-point')).toHaveLength(2);
    expect(screen.getByTestId('training-eta').textContent).toBe('ETA 9 s');
    expect(screen.getByTestId('training-backend').textContent).toBe('backend: wasm');

    await waitFor(() =>
      expect(screen.getByTestId('comparison-wins').textContent).toMatch(/wins 7/),
    );
    expect(screen.getByTestId('comparison-dice-b').textContent).toBe('0.620');
    fireEvent.click(screen.getByTestId('promote-v2'));
    await waitFor(() =>
      expect(
        screen
          .getAllByTestId('version-row')
          .find((row) => row.getAttribute('data-version') === 'v2')
          ?.getAttribute('data-active'),
      ).toBe('true'),
    );
    unsubscribe();
  });

  it('stops a running run through jobs.cancel and resumes an incomplete version', async () => {
    const { emit, calls, addIncomplete, unsubscribe } = await mountPanel();
    const stop = screen.getByTestId<HTMLButtonElement>('train-stop');
    expect(stop.disabled).toBe(true);
    act(() => emit('job.updated', job({ id: 'job-7', detail: { version: 'v3' } })));
    expect(stop.disabled).toBe(false);
    expect(screen.getByTestId<HTMLButtonElement>('train-start').disabled).toBe(true);
    addIncomplete();
    fireEvent.click(stop);
    await waitFor(() =>
      expect(calls.find((c) => c.method === 'jobs.cancel')?.input).toEqual({ id: 'job-7' }),
    );
    act(() => emit('job.updated', job({ id: 'job-7', state: 'cancelled' })));
    const resume = await screen.findByTestId<HTMLButtonElement>('train-resume-v3');
    expect(resume.textContent).toContain('2/5 epochs');
    fireEvent.click(resume);
    await waitFor(() =>
      expect(calls.find((c) => c.method === 'train.resume')?.input).toEqual({ version: 'v3' }),
    );
    unsubscribe();
  });

  it('turns Roll back off when no version was active before, and says so', async () => {
    const { calls, unsubscribe } = await mountPanel([
      summary('v1', { active: true }),
      summary('v2'),
    ]);
    const rollback = screen.getByTestId<HTMLButtonElement>('rollback');
    expect(rollback.disabled).toBe(true);
    expect(rollback.getAttribute('title')).toMatch(/Nothing to roll back to/);
    fireEvent.click(rollback);
    expect(calls.filter((c) => c.method === 'models.rollback')).toEqual([]);
    unsubscribe();
  });

  it('names the version Roll back returns to', async () => {
    await mountPanel([summary('v1', { rollbackTarget: true }), summary('v2', { active: true })]);
    const enabled = screen.getByTestId<HTMLButtonElement>('rollback');
    expect(enabled.disabled).toBe(false);
    expect(enabled.textContent).toBe('Roll back to v1');
    expect(enabled.getAttribute('title')).toMatch(/Make v1 active again/);
  });

  it('marks a damaged version and says why on hover', async () => {
    const damage = 'card.json is damaged: Unexpected end of JSON input';
    await mountPanel([
      summary('v1', { active: true }),
      summary('v2', { state: 'damaged', damage, base: null, size: null, valDice: null }),
    ]);
    const badge = screen.getByTestId('damaged-badge');
    expect(badge.textContent).toBe('damaged');
    expect(badge.getAttribute('title')).toBe(damage);
    expect(badge.closest('tr')?.getAttribute('data-version')).toBe('v2');
  });
  it('Predict all shows the job it started at once, not the last one, until its events arrive', async () => {
    const { calls, unsubscribe } = await mountPanel();
    const { useAppStore } = await import('../../src/renderer/src/store');
    const last = job({ id: 'job-p1', kind: 'predict', state: 'succeeded', phase: 'done' });
    act(() => useAppStore.setState({ jobs: { [last.id]: last } }));
    const status = screen.getByTestId('predict-status');
    expect(status.getAttribute('data-job-id')).toBe('job-p1');
    expect(status.textContent).toBe('last prediction succeeded');
    fireEvent.click(screen.getByTestId('predict-all'));
    // No job.updated event is sent: the answer of predict.start alone must replace the old state.
    await waitFor(() =>
      expect(screen.getByTestId('predict-status').getAttribute('data-job-id')).toBe('job-p2'),
    );
    expect(screen.getByTestId('predict-status').getAttribute('data-state')).toBe('running');
    expect(screen.getByTestId<HTMLButtonElement>('predict-all').disabled).toBe(true);
    expect(calls.filter((c) => c.method === 'predict.start')).toHaveLength(1);
    unsubscribe();
  });

  it('a start answer arriving after the job event does not take the store back', async () => {
    const { addStartedJob, useAppStore } = await import('../../src/renderer/src/store');
    const done = job({ id: 'job-p3', kind: 'predict', state: 'succeeded', phase: 'done' });
    useAppStore.setState({ jobs: { [done.id]: done } });
    addStartedJob(job({ id: 'job-p3', kind: 'predict', state: 'running', phase: 'queued' }));
    expect(useAppStore.getState().jobs['job-p3']?.state).toBe('succeeded');
    addStartedJob(job({ id: 'job-p4', kind: 'predict', state: 'running', phase: 'queued' }));
    expect(useAppStore.getState().jobs['job-p4']?.state).toBe('running');
  });

  it('what changed: says it is comparing, shows the phase, and says what it compared once the queue opens', async () => {
    const { calls, emit, unsubscribe } = await mountPanel();
    fireEvent.click(screen.getByTestId('queue-changed'));
    await waitFor(() =>
      expect(screen.getByTestId('queue-note').textContent).toBe(
        'Predicting where needed and comparing v2…',
      ),
    );
    expect(calls.find((c) => c.method === 'changes.start')?.input).toEqual({ version: 'v2' });
    act(() => emit('job.updated', job({ id: 'job-9', kind: 'compare', phase: 'predicting v1' })));
    // Rendered on React's schedule, not always within act: the store has it at once.
    await waitFor(() =>
      expect(screen.getByTestId('queue-progress').textContent).toBe('predicting v1'),
    );
    expect(screen.getByTestId<HTMLButtonElement>('queue-changed').disabled).toBe(true);
    act(() =>
      emit(
        'job.updated',
        job({
          id: 'job-9',
          kind: 'compare',
          state: 'succeeded',
          phase: 'done',
          result: { version: 'v2', reference: 'v1', images: 2 },
        }),
      ),
    );
    // The note outlasts the job: a fast comparison still tells the reader what the queue is.
    await waitFor(() =>
      expect(screen.getByTestId('queue-note').textContent).toBe(
        'Compared v2 with v1 on 2 images: the worklist is sorted by what changed.',
      ),
    );
    const { useReviewStore } = await import('../../src/renderer/src/review/review-store');
    expect(useReviewStore.getState().query).toMatchObject({ sort: 'changed', changesOf: 'v2' });
    expect(screen.queryByTestId('queue-progress')).toBeNull();
    expect(screen.getByTestId<HTMLButtonElement>('queue-changed').disabled).toBe(false);
    unsubscribe();
  });

  it('in a read-only project, turns off what would write with the reason, and writes nothing', async () => {
    const reason = 'The project is open read-only: it is on a network filesystem (nfs)';
    const { calls, unsubscribe } = await mountPanel(
      undefined,
      'it is on a network filesystem (nfs)',
    );
    for (const id of [
      'train-start',
      'predict-all',
      'add-model-open',
      'import-predictions-open',
      'rollback',
    ]) {
      const control = screen.getByTestId<HTMLButtonElement>(id);
      expect(control.disabled, id).toBe(true);
      expect(control.getAttribute('title'), id).toBe(reason);
    }
    fireEvent.click(screen.getByRole('button', { name: 'Compare' }));
    const promote = await screen.findByTestId<HTMLButtonElement>('promote-v2');
    expect(promote.disabled).toBe(true);
    expect(promote.getAttribute('title')).toBe(reason);
    // What changed needs figures worked out (written to the project): it says so, asks nothing.
    fireEvent.click(screen.getByTestId('queue-changed'));
    await waitFor(() =>
      expect(screen.getByTestId('queue-note').textContent).toBe(
        `No figures of what changed with v2 yet. ${reason}`,
      ),
    );
    const writes = ['changes.start', 'models.promote', 'train.start', 'predict.start'];
    expect(calls.filter((c) => writes.includes(c.method))).toEqual([]);
    unsubscribe();
  });
});
