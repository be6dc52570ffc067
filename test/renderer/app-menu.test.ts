/**
 * The desktop menu bar follows the action registry: every action the layout names exists, with
 * its label, its key as an accelerator and whether it can run now; a change of state resends the
 * menu; a menu click runs the action through the registry, as its key does.
 */
import { afterEach, describe, expect, it, vi } from 'vitest';
import type { ImageDetail } from '../../src/shared/contract-review';
import type { AppMenuState } from '../../src/shared/app-menu';
import { createApi } from '../../src/shared/client';

const openImage = {
  id: 7,
  datasetId: 1,
  relPath: 'Images/a.png',
  name: 'a.png',
  split: 'train',
  width: 32,
  height: 24,
  bitDepth: 8,
  channels: 1,
  sha256: 'f'.repeat(64),
  status: 'present',
  reviewState: 'flagged',
  comment: '',
  groundTruthRevisionId: 3,
  correctionRevisionId: null,
  labelRevisionId: 3,
  predictionRevisionId: null,
  activeModel: null,
  prediction: null,
  canUndo: false,
  canRedo: false,
  updatedAt: '2025-01-01T00:00:00Z',
  reviewedAt: null,
} as unknown as ImageDetail;

async function load() {
  const sent: AppMenuState[] = [];
  const listeners: ((id: string) => void)[] = [];
  window.api = {
    ...createApi({
      call: async () => {
        throw new Error('no host in this test');
      },
      subscribe: () => () => undefined,
      mediaUrl: (kind, id) => `test://${kind}/${id}`,
    }),
    appMenu: {
      set: (state) => sent.push(state),
      onAction: (listener) => {
        listeners.push(listener);
        return () => listeners.splice(listeners.indexOf(listener), 1);
      },
    },
  };
  const menu = await import('../../src/renderer/src/editor/app-menu');
  const { useReviewStore } = await import('../../src/renderer/src/review/review-store');
  return { menu, useReviewStore, sent, click: (id: string) => listeners.forEach((l) => l(id)) };
}

afterEach(() => {
  vi.resetModules();
  delete window.api;
});

describe('the menu bar from the action registry', () => {
  it('turns registry chords into Electron accelerators', async () => {
    const { menu } = await load();
    expect(menu.acceleratorOf('ctrl+z')).toBe('CmdOrCtrl+Z');
    expect(menu.acceleratorOf('ctrl+shift+z')).toBe('CmdOrCtrl+Shift+Z');
    expect(menu.acceleratorOf('shift+f')).toBe('Shift+F');
    expect(menu.acceleratorOf('arrowdown')).toBe('Down');
    expect(menu.acceleratorOf('+')).toBe('Plus');
    expect(menu.acceleratorOf('?')).toBe('?');
  });

  it('describes every action of the layout from the registry, enabled or not for the state', async () => {
    const { menu, useReviewStore } = await load();
    useReviewStore.getState().set({ detail: null });
    const closed = menu.appMenuState(useReviewStore.getState());
    const undo = closed.find((item) => item.id === 'edit.undo')!;
    expect(undo).toMatchObject({ label: 'Undo', accelerator: 'CmdOrCtrl+Z', enabled: false });
    expect(closed.find((item) => item.id === 'review.flagged')!.enabled).toBe(false);
    useReviewStore.getState().set({ detail: openImage, selectedId: openImage.id });
    const open = menu.appMenuState(useReviewStore.getState());
    expect(open.find((item) => item.id === 'review.flagged')).toMatchObject({
      enabled: true,
      checked: true,
      accelerator: 'Shift+F',
    });
    expect(open.find((item) => item.id === 'review.accepted')!.checked).toBe(false);
  });

  it('sends the menu when the state changes, and a click runs the action', async () => {
    const { menu, useReviewStore, sent, click } = await load();
    useReviewStore.getState().set({ detail: openImage, selectedId: openImage.id });
    const stop = menu.startAppMenuSync();
    expect(sent).toHaveLength(1);
    expect(sent[0].find((item) => item.id === 'view.invert')!.checked).toBe(false);
    // An unrelated store change that leaves the menu as it was sends nothing.
    useReviewStore.getState().set({ brushRadius: useReviewStore.getState().brushRadius + 1 });
    expect(sent).toHaveLength(1);
    click('view.invert');
    expect(useReviewStore.getState().window?.invert).toBe(true);
    expect(sent).toHaveLength(2);
    expect(sent[1].find((item) => item.id === 'view.invert')!.checked).toBe(true);
    stop();
    click('view.invert');
    expect(useReviewStore.getState().window?.invert).toBe(true);
  });
});
