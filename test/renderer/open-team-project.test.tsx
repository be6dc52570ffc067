/**
 * "Open team project…" in the page: the registry's action is on only in the desktop app (the
 * preload's `teamProjects`), opens the dialog, which offers the recent addresses, sends the one
 * chosen to the main process and says the main process's refusal in its words. The bridge here
 * answers with the address rule the main process applies (shared/team-url.ts); the opening of a
 * window is recorded instead of done, and the recent list (a file in main, test/unit/team-url)
 * is kept in memory.
 */
import { afterEach, describe, expect, it, vi } from 'vitest';
import { act, cleanup, fireEvent, render, screen, waitFor } from '@testing-library/react';
import { createApi } from '../../src/shared/client';
import type { TeamProjectsBridge } from '../../src/shared/team-open';
import { parseTeamUrl } from '../../src/shared/team-url';

function hostApi() {
  return createApi({
    call: async () => {
      throw new Error('no host in this test');
    },
    subscribe: () => () => undefined,
    mediaUrl: (kind, id) => `test://${kind}/${id}`,
  });
}

function desktopBridge(): { bridge: TeamProjectsBridge; opened: string[] } {
  let recent = ['http://127.0.0.1:7790/', 'https://old.example.org/'];
  const opened: string[] = [];
  const bridge: TeamProjectsBridge = {
    async open(url) {
      const parsed = parseTeamUrl(url);
      if (!parsed.ok) return parsed;
      opened.push(parsed.url);
      recent = [parsed.url, ...recent.filter((known) => known !== parsed.url)];
      return { ok: true, url: parsed.url };
    },
    recent: async () => recent,
  };
  return { bridge, opened };
}

async function load() {
  // jsdom has no <dialog> methods: the dialog only needs them to open and close.
  HTMLDialogElement.prototype.showModal = function showModal(this: HTMLDialogElement) {
    this.open = true;
  };
  HTMLDialogElement.prototype.close = function close(this: HTMLDialogElement) {
    this.open = false;
  };
  const registry = await import('../../src/renderer/src/editor/registry');
  const { useReviewStore } = await import('../../src/renderer/src/review/review-store');
  const { useOpenTeamProject } = await import('../../src/renderer/src/team/open-team-store');
  const { OpenTeamProjectDialog } =
    await import('../../src/renderer/src/team/OpenTeamProjectDialog');
  const action = registry.actionById('project.openTeam');
  return {
    disabledReason: () => registry.disabledReason(action, useReviewStore.getState()),
    perform: () => act(() => void action.perform({} as never)),
    isOpen: () => useOpenTeamProject.getState().open,
    OpenTeamProjectDialog,
  };
}

afterEach(() => {
  cleanup();
  vi.resetModules();
  delete window.api;
});

describe('Open team project…', () => {
  it('is off in browser mode, saying why, and shows no dialog', async () => {
    window.api = hostApi();
    const page = await load();
    expect(page.disabledReason()).toMatch(/Only in the desktop app/);
    const { container } = render(<page.OpenTeamProjectDialog />);
    expect(container.innerHTML).toBe('');
  });

  it('offers the recent addresses, says a refusal and opens the one chosen', async () => {
    const { bridge, opened } = desktopBridge();
    window.api = { ...hostApi(), teamProjects: bridge };
    const page = await load();
    expect(page.disabledReason()).toBeNull();
    render(<page.OpenTeamProjectDialog />);
    const dialog = screen.getByTestId<HTMLDialogElement>('open-team-dialog');
    expect(dialog.open).toBe(false);
    page.perform();
    expect(page.isOpen()).toBe(true);
    expect(dialog.open).toBe(true);

    // The newest recent address is offered first and fills the field.
    const recent = await screen.findByTestId('team-url-recent');
    expect(
      Array.from(recent.querySelectorAll('button')).map((button) => button.textContent),
    ).toEqual(['http://127.0.0.1:7790/', 'https://old.example.org/']);
    const field = screen.getByTestId<HTMLInputElement>('team-url');
    await waitFor(() => expect(field.value).toBe('http://127.0.0.1:7790/'));

    // A plain-http address of another computer is refused in the main process's words.
    fireEvent.change(field, { target: { value: 'http://ws.example.org:7790/' } });
    fireEvent.click(screen.getByTestId('team-url-open'));
    await waitFor(() =>
      expect(screen.getByTestId('team-url-error').textContent).toMatch(
        /ws\.example\.org must be reached over https:\/\//,
      ),
    );
    expect(opened).toEqual([]);
    expect(page.isOpen()).toBe(true);

    // A recent one opens, and the dialog closes.
    fireEvent.click(screen.getByRole('button', { name: 'https://old.example.org/' }));
    await waitFor(() => expect(page.isOpen()).toBe(false));
    expect(dialog.open).toBe(false);
    expect(opened).toEqual(['https://old.example.org/']);
    expect(await bridge.recent()).toEqual(['https://old.example.org/', 'http://127.0.0.1:7790/']);
  });
});
