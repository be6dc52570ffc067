/**
 * "Open team project…" in the desktop app: the team server's address (typed, or one of the recent
 * ones), sent to the main process, which checks it and opens the server's own pages (sign-in,
 * then its review) in a window of their own. A refused address or a server that does not answer
 * is said here, in the main process's words; the dialog closes once the window is open.
 */
import { useEffect, useState } from 'react';
import { JobDialog } from '../common/JobDialog';
import { teamProjectsBridge, useOpenTeamProject } from './open-team-store';

export function OpenTeamProjectDialog() {
  const open = useOpenTeamProject((state) => state.open);
  const setOpen = useOpenTeamProject((state) => state.setOpen);
  const [address, setAddress] = useState('');
  const [recent, setRecent] = useState<string[]>([]);
  const [error, setError] = useState<string | null>(null);
  const [opening, setOpening] = useState(false);
  const bridge = teamProjectsBridge();

  useEffect(() => {
    if (!open || !bridge) return;
    setError(null);
    let current = true;
    bridge.recent().then(
      (urls) => {
        if (!current) return;
        setRecent(urls);
        setAddress((typed) => typed || (urls[0] ?? ''));
      },
      () => undefined, // No list: the field still works.
    );
    return () => {
      current = false;
    };
  }, [open, bridge]);

  if (!bridge) return null;

  const submit = async (url: string) => {
    setError(null);
    setOpening(true);
    try {
      const result = await bridge.open(url);
      if (result.ok) setOpen(false);
      else setError(result.message);
    } catch (caught) {
      setError(caught instanceof Error ? caught.message : String(caught));
    } finally {
      setOpening(false);
    }
  };

  return (
    <JobDialog
      open={open}
      onClose={() => setOpen(false)}
      busy={opening}
      testId="open-team-dialog"
      onSubmit={() => {
        if (address.trim()) void submit(address);
      }}
    >
      <h2>Open team project</h2>
      <p className="muted">
        The address of a team server (<code>qataseg serve --team</code>), such as{' '}
        <code>https://workstation.example.org:8443/</code>. It opens in a window of its own, where
        you sign in as in a browser. <code>http://</code> is only for a server on this computer.
      </p>
      <label>
        Team server address
        <input
          value={address}
          onChange={(event) => setAddress(event.target.value)}
          placeholder="https://workstation.example.org:8443/"
          spellCheck={false}
          autoFocus
          data-testid="team-url"
        />
      </label>
      {recent.length > 0 && (
        <div data-testid="team-url-recent">
          <p className="muted">Recent</p>
          <ul>
            {recent.map((url) => (
              <li key={url}>
                <button
                  type="button"
                  disabled={opening}
                  onClick={() => {
                    setAddress(url);
                    void submit(url);
                  }}
                >
                  {url}
                </button>
              </li>
            ))}
          </ul>
        </div>
      )}
      {error && (
        <p role="alert" className="error" data-testid="team-url-error">
          {error}
        </p>
      )}
      <div className="actions">
        <button type="button" onClick={() => setOpen(false)} disabled={opening}>
          Cancel
        </button>
        <button type="submit" data-testid="team-url-open" disabled={opening || !address.trim()}>
          {opening ? 'Opening…' : 'Open'}
        </button>
      </div>
    </JobDialog>
  );
}
