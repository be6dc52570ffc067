/**
 * The PACS dialog's connection part: pick one of the project's connections, add (or replace) one
 * with its DICOMweb URL and authentication, remove one, and "Test connection" (pacs.echo) with what
 * works and what does not. A password or token goes to the host once and is never shown again:
 * the field empties on save, and the list says only whether one is kept.
 */
import { useState } from 'react';
import {
  pacsAuthSchema,
  type PacsAuth,
  type PacsConnection,
  type PacsEchoResult,
} from '../../../shared/pacs-schemas';
import { api } from '../api';
import { errorMessage } from '../common/notices';

function describe(connection: PacsConnection): string {
  if (connection.kind === 'dimse')
    return `DIMSE ${connection.aet}@${connection.host}:${connection.port}`;
  const auth =
    connection.auth === 'none'
      ? 'no authentication'
      : `${connection.auth}${connection.username ? ` as ${connection.username}` : ''}${connection.hasSecret ? ', secret kept' : ', no secret kept'}`;
  return `${connection.url} (${auth}${connection.caFile ? `, CA ${connection.caFile}` : ''})`;
}

export function ConnectionPicker({
  connections,
  selected,
  onSelect,
  onChanged,
  disabled,
}: {
  connections: PacsConnection[];
  selected: string;
  onSelect: (name: string) => void;
  /** The list changed on the host: read it again (and select `name` if given). */
  onChanged: (name?: string) => Promise<void>;
  disabled: boolean;
}) {
  const [adding, setAdding] = useState(connections.length === 0);
  const [name, setName] = useState('');
  const [url, setUrl] = useState('');
  const [auth, setAuth] = useState<PacsAuth>('none');
  const [username, setUsername] = useState('');
  const [secret, setSecret] = useState('');
  const [caFile, setCaFile] = useState('');
  const [error, setError] = useState<string | null>(null);
  const [echo, setEcho] = useState<PacsEchoResult | null>(null);
  const [testing, setTesting] = useState(false);
  const current = connections.find((connection) => connection.name === selected) ?? null;

  const save = async () => {
    setError(null);
    try {
      const saved = await api['pacs.add']({
        name: name.trim(),
        kind: 'dicomweb',
        url: url.trim(),
        auth,
        username: auth === 'basic' && username.trim() ? username.trim() : undefined,
        secret: auth !== 'none' && secret ? secret : undefined,
        caFile: caFile.trim() || undefined,
      });
      // The secret is the host's now: nothing keeps it on this page.
      setSecret('');
      setAdding(false);
      setEcho(null);
      await onChanged(saved.name);
    } catch (caught) {
      setError(errorMessage(caught));
    }
  };

  const remove = async () => {
    if (!current) return;
    setError(null);
    try {
      await api['pacs.remove']({ name: current.name });
      setEcho(null);
      await onChanged();
    } catch (caught) {
      setError(errorMessage(caught));
    }
  };

  const test = async () => {
    if (!current) return;
    setError(null);
    setEcho(null);
    setTesting(true);
    try {
      setEcho(await api['pacs.echo']({ name: current.name }));
    } catch (caught) {
      setError(errorMessage(caught));
    } finally {
      setTesting(false);
    }
  };

  return (
    <fieldset className="pacs-connection" data-testid="pacs-connections">
      <legend>Connection</legend>
      <span className="row">
        <select
          data-testid="pacs-connection"
          aria-label="PACS connection"
          value={selected}
          disabled={disabled || connections.length === 0}
          onChange={(event) => {
            setEcho(null);
            onSelect(event.target.value);
          }}
        >
          {connections.length === 0 && <option value="">No connection yet</option>}
          {connections.map((connection) => (
            <option key={connection.name} value={connection.name}>
              {connection.name}
            </option>
          ))}
        </select>
        <button
          type="button"
          data-testid="pacs-test"
          disabled={disabled || !current || testing}
          onClick={() => void test()}
        >
          {testing ? 'Testing…' : 'Test connection'}
        </button>
        <button
          type="button"
          data-testid="pacs-remove"
          disabled={disabled || !current}
          onClick={() => void remove()}
        >
          Remove
        </button>
        <button
          type="button"
          data-testid="pacs-add"
          aria-expanded={adding}
          disabled={disabled}
          onClick={() => setAdding((shown) => !shown)}
        >
          Add…
        </button>
      </span>
      {current && (
        <p className="muted small" data-testid="pacs-connection-info">
          {describe(current)}
        </p>
      )}
      {echo && (
        <ul className="pacs-echo" data-testid="pacs-echo" data-ok={echo.ok}>
          {echo.checks.map((check) => (
            <li key={check.what} className={check.ok ? 'ok' : 'error'}>
              {check.ok ? '✓' : '✗'} {check.what}: {check.message}
            </li>
          ))}
        </ul>
      )}
      {adding && (
        <div className="pacs-add" data-testid="pacs-add-form">
          <span className="row">
            <label>
              Name
              <input
                data-testid="pacs-add-name"
                value={name}
                onChange={(event) => setName(event.target.value)}
                placeholder="hospital-pacs"
                spellCheck={false}
              />
            </label>
            <label>
              Authentication
              <select
                data-testid="pacs-add-auth"
                value={auth}
                onChange={(event) => setAuth(pacsAuthSchema.parse(event.target.value))}
              >
                <option value="none">none</option>
                <option value="basic">basic (user and password)</option>
                <option value="bearer">bearer token</option>
              </select>
            </label>
          </span>
          <label>
            DICOMweb URL (QIDO-RS, WADO-RS and STOW-RS root)
            <input
              data-testid="pacs-add-url"
              value={url}
              onChange={(event) => setUrl(event.target.value)}
              placeholder="https://pacs.example.org/dicom-web"
              spellCheck={false}
            />
          </label>
          {auth !== 'none' && (
            <span className="row">
              {auth === 'basic' && (
                <label>
                  User
                  <input
                    data-testid="pacs-add-user"
                    value={username}
                    autoComplete="off"
                    onChange={(event) => setUsername(event.target.value)}
                    spellCheck={false}
                  />
                </label>
              )}
              <label>
                {auth === 'basic' ? 'Password' : 'Token'}
                <input
                  type="password"
                  data-testid="pacs-add-secret"
                  value={secret}
                  autoComplete="new-password"
                  placeholder={
                    connections.find((c) => c.name === name.trim())?.hasSecret
                      ? 'kept (leave empty to keep it)'
                      : ''
                  }
                  onChange={(event) => setSecret(event.target.value)}
                />
              </label>
            </span>
          )}
          <label>
            CA file (optional: a PEM of the CA that signed the server&apos;s certificate)
            <input
              data-testid="pacs-add-ca"
              value={caFile}
              onChange={(event) => setCaFile(event.target.value)}
              placeholder="/etc/ssl/hospital-ca.pem"
              spellCheck={false}
            />
          </label>
          <span className="actions">
            <button
              type="button"
              data-testid="pacs-add-save"
              disabled={disabled || !name.trim() || !url.trim()}
              onClick={() => void save()}
            >
              Save connection
            </button>
          </span>
        </div>
      )}
      {error && (
        <p role="alert" className="error" data-testid="pacs-connection-error">
          {error}
        </p>
      )}
    </fieldset>
  );
}
