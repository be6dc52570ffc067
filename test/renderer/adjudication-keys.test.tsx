/**
 * The adjudicator's panel goes through the one editor registry: its actions (reader layers, take
 * reader N, consensus outline and map, start from consensus, brush and eraser, save as final,
 * next and previous disputed image) are registered, listed in the Shortcuts help and the menu
 * bar, and their keys, pressed in the panel, run them through the page's one key handler, while
 * the review screen's keys (1 is 1:1, c the label layer there) do not fire inside the panel.
 * Against a real host: the core service on a temp project with three readers' labels and a
 * stored consensus (jsdom has no image decoder: the browser's codec is replaced by sharp).
 */
import { afterEach, beforeEach, describe, expect, it, vi } from 'vitest';
import { act, cleanup, fireEvent, render, screen, waitFor } from '@testing-library/react';
import { createApi } from '../../src/shared/client';
import { ApiError, type MediaKind } from '../../src/shared/contract';
import { appMenuActionIds } from '../../src/shared/app-menu';
/* eslint-disable no-restricted-imports -- the host is real and in-process; the panel reaches it
   only through window.api */
import { createService, type Service } from '../../src/core/service';
import { saveConsensus } from '../../src/core/project/consensus';
/* eslint-enable no-restricted-imports */
import { projectWithPlan, square, topHalf, W, H } from '../unit/team-fixtures';
import { decodeGray, pngBase64 } from './real-host';

const slot = globalThis as { qatasegAdjudicationHost?: Service | null };

// The browser's pixel codec, with sharp and the host's own media resolvers (query included).
vi.mock('../../src/renderer/src/review/media', () => ({
  loadGrey: async (url: string) => {
    const parsed = new URL(url);
    const response = await slot.qatasegAdjudicationHost!.media(
      parsed.host as MediaKind,
      Number(parsed.pathname.slice(1)),
      parsed.searchParams,
    );
    return decodeGray(response.body);
  },
  encodeLabelPng: pngBase64,
}));

let service: Service;
let ids: number[];

beforeEach(async () => {
  const fixture = await projectWithPlan();
  ids = fixture.ids;
  // img-1's readers' mean pairwise Dice is 7/9: below this threshold, a dispute.
  fixture.store.db
    .prepare('UPDATE reading_plans SET disagreement_threshold = 0.9 WHERE id = ?')
    .run(fixture.planId);
  // img-3 (a negative/positive split) has a stored consensus: the square.
  await saveConsensus(fixture.store.db, {
    planId: fixture.planId,
    imageId: ids[2],
    method: 'staple',
    probability: square().map((v) => (v ? 230 : 20)),
    width: W,
    height: H,
    readers: [],
  });
  fixture.store.close();
  service = createService({
    transport: 'http',
    projectDir: fixture.dir,
    workerLauncher: () => {
      throw new Error('no ML worker in this test');
    },
  });
  slot.qatasegAdjudicationHost = service;
  window.api = createApi({
    async call(method, input) {
      try {
        const output: unknown = await service.invoke(method as never, input as never);
        return JSON.parse(JSON.stringify(output)) as unknown;
      } catch (error) {
        if (error instanceof ApiError) throw new ApiError(error.code, error.message);
        throw error;
      }
    },
    subscribe: (listener) => service.subscribe(listener),
    mediaUrl: (kind, id, query) =>
      `test://${kind}/${id}?${new URLSearchParams(
        Object.entries(query ?? {}).map(([k, v]) => [k, String(v)]),
      ).toString()}`,
  });
  // jsdom's canvas has no 2D context; the view paints into whatever it is given.
  vi.spyOn(HTMLCanvasElement.prototype, 'getContext').mockImplementation(
    () =>
      ({
        createImageData: (width: number, height: number) => ({
          width,
          height,
          data: new Uint8ClampedArray(width * height * 4),
        }),
        putImageData: () => undefined,
      }) as never,
  );
});

afterEach(() => {
  cleanup();
  vi.restoreAllMocks();
  vi.resetModules();
  slot.qatasegAdjudicationHost = null;
  service.close();
  delete window.api;
});

const ADJUDICATION_IDS = [
  ...[1, 2, 3, 4, 5, 6, 7, 8, 9].flatMap((n) => [
    `adjudication.reader${n}`,
    `adjudication.take${n}`,
  ]),
  'adjudication.outline',
  'adjudication.map',
  'adjudication.fromConsensus',
  'adjudication.brush',
  'adjudication.eraser',
  'adjudication.decide',
  'adjudication.next',
  'adjudication.previous',
];

async function loadPanel() {
  const registry = await import('../../src/renderer/src/editor/registry');
  const { onEditorKey } = await import('../../src/renderer/src/editor/keys');
  const { AdjudicationPanel } =
    await import('../../src/renderer/src/adjudication/AdjudicationPanel');
  const { HelpOverlay } = await import('../../src/renderer/src/review/Panels');
  const { useReviewStore } = await import('../../src/renderer/src/review/review-store');
  window.addEventListener('keydown', onEditorKey);
  const view = render(
    <>
      <AdjudicationPanel open onClose={() => undefined} />
      <HelpOverlay />
      <p data-testid="outside">the review screen</p>
    </>,
  );
  return {
    registry,
    useReviewStore,
    unmount: () => {
      view.unmount();
      window.removeEventListener('keydown', onEditorKey);
    },
  };
}

/** Presses a key where `element` has the focus; the page's one handler hears it on the window. */
function press(element: Element, key: string, modifiers: { ctrlKey?: boolean } = {}) {
  act(() => {
    fireEvent.keyDown(element, { key, ...modifiers });
  });
}

const checked = (testId: string) => screen.getByTestId<HTMLInputElement>(testId).checked;

describe('adjudication actions in the editor registry', () => {
  it('are registered in their own key scope, in the Shortcuts help and the menu bar', async () => {
    const { registry, useReviewStore, unmount } = await loadPanel();
    const registered = registry.ACTIONS.filter((a) => a.group === 'Adjudication').map((a) => a.id);
    expect(registered.sort()).toEqual([...ADJUDICATION_IDS].sort());
    for (const id of registered) expect(registry.actionById(id).scope).toBe('adjudication');
    act(() => useReviewStore.getState().set({ helpOpen: true }));
    for (const id of ADJUDICATION_IDS) {
      expect(screen.getByTestId(`help-${id}`).textContent).toContain(
        registry.actionById(id).description,
      );
    }
    const menu = appMenuActionIds();
    for (const id of ['adjudication.decide', 'adjudication.next', 'adjudication.fromConsensus'])
      expect(menu).toContain(id);
    // With no image chosen, they say why they cannot run.
    expect(
      registry.disabledReason(
        registry.actionById('adjudication.decide'),
        useReviewStore.getState(),
      ),
    ).toMatch(/choose a disputed image/);
    unmount();
  });

  it('their keys run them in the panel; the review keys do not fire there', async () => {
    const { registry, useReviewStore, unmount } = await loadPanel();
    const { ACTIONS } = registry;
    await waitFor(() => expect(screen.getAllByTestId('adj-queue-item')).toHaveLength(2));
    const panel = screen.getByTestId('adjudication-panel');

    // ↓ (next disputed image) opens the first: img-1, whose readers disagree in place.
    press(panel, 'ArrowDown');
    await waitFor(() =>
      expect(screen.getByTestId('adj-image').textContent).toBe('Images/img-1.png'),
    );
    const view = screen.getByTestId('adj-view');
    await waitFor(() =>
      expect(screen.getByTestId<HTMLButtonElement>('adj-take-2').disabled).toBe(false),
    );
    expect(checked('adj-reader-2')).toBe(true);
    // Every adjudication action has a key, or a registry button in the panel (take reader N: one
    // per reader of the image).
    for (const action of ACTIONS.filter((a) => a.group === 'Adjudication')) {
      const reader = /^adjudication\.take(\d)$/.exec(action.id);
      if (action.keys.length > 0 || (reader && Number(reader[1]) > 3)) continue;
      expect(document.querySelector(`[data-action="${action.id}"]`), action.id).not.toBeNull();
    }
    const labelLayer = () => useReviewStore.getState().layers.label.visible;
    const before = labelLayer();

    // 2 hides reader 2's label, 2 again shows it; 1 is reader 1 here, not the review's 1:1.
    press(view, '2');
    expect(checked('adj-reader-2')).toBe(false);
    press(view, '2');
    expect(checked('adj-reader-2')).toBe(true);
    press(view, '1');
    expect(checked('adj-reader-1')).toBe(false);
    // c is the consensus outline here (none stored for img-1: it says so); never the label layer.
    press(view, 'c');
    expect(labelLayer()).toBe(before);
    expect(screen.getByTestId<HTMLInputElement>('adj-outline').disabled).toBe(true);
    // e and b choose the eraser and the brush.
    press(view, 'e');
    expect(screen.getByTestId('adj-eraser').getAttribute('aria-pressed')).toBe('true');
    press(view, 'b');
    expect(screen.getByTestId('adj-eraser').getAttribute('aria-pressed')).toBe('false');
    expect(screen.getByTestId('adj-brush').getAttribute('aria-pressed')).toBe('true');
    // Save as final (Ctrl+Enter) is off until there is a candidate.
    expect(screen.getByTestId<HTMLButtonElement>('adj-save').disabled).toBe(true);

    // Take reader 2 (its registry button), then Ctrl+Enter saves it as the final label.
    fireEvent.click(screen.getByTestId('adj-take-2'));
    expect(screen.getByTestId('adj-candidate').textContent).toBe('Final label: reader 2');
    const name = screen.getByTestId('adj-reader-name-2').textContent;
    press(view, 'Enter', { ctrlKey: true });
    await waitFor(() => expect(screen.getByTestId('adj-notice').textContent).toContain(name));
    const detail = await service.invoke('images.get', { id: ids[0] });
    const media = await service.media('mask', detail.labelRevisionId!, new URLSearchParams());
    const final = (await decodeGray(media.body)).data;
    const expected = name === 'bo' ? topHalf() : square();
    expect([...final].map((v) => (v ? 1 : 0))).toEqual([...expected].map((v) => (v ? 1 : 0)));

    // The queue now holds img-3 alone; j opens it. Its consensus: s starts from it, p shows the map.
    await waitFor(() => expect(screen.getAllByTestId('adj-queue-item')).toHaveLength(1));
    press(panel, 'j');
    await waitFor(() =>
      expect(screen.getByTestId('adj-image').textContent).toBe('Images/img-3.png'),
    );
    await waitFor(() =>
      expect(screen.getByTestId<HTMLButtonElement>('adj-outline').disabled).toBe(false),
    );
    const view3 = screen.getByTestId('adj-view');
    expect(checked('adj-map')).toBe(false);
    press(view3, 'p');
    expect(checked('adj-map')).toBe(true);
    expect(checked('adj-outline')).toBe(true);
    press(view3, 'c');
    expect(checked('adj-outline')).toBe(false);
    press(view3, 's');
    expect(screen.getByTestId('adj-candidate').textContent).toBe('Final label: consensus (staple)');

    // Outside the panel the review screen's keys are back: c is the label layer.
    press(screen.getByTestId('outside'), 'c');
    expect(labelLayer()).toBe(!before);
    expect(checked('adj-outline')).toBe(false);
    unmount();
  });

  it('a key pressed the moment the queue appears opens its first image', async () => {
    // The registry reads the panel's published queue; publishing it after the paint left a window
    // in which the queue was on screen and ↓ said "No disputed image left" (a flaky test found it).
    const { useReviewStore, unmount } = await loadPanel();
    const panel = screen.getByTestId('adjudication-panel');
    let pressedWith: number | null = null;
    const observer = new MutationObserver(() => {
      if (pressedWith !== null || screen.queryAllByTestId('adj-queue-item').length === 0) return;
      pressedWith = useReviewStore.getState().adjudication?.queueLength ?? 0;
      fireEvent.keyDown(panel, { key: 'ArrowDown' });
    });
    observer.observe(panel, { childList: true, subtree: true });
    await waitFor(() => expect(pressedWith).not.toBeNull());
    observer.disconnect();
    expect(pressedWith).toBe(2);
    await waitFor(() =>
      expect(screen.getByTestId('adj-image').textContent).toBe('Images/img-1.png'),
    );
    unmount();
  });
});
