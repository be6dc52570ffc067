/**
 * A folder path: typed, or picked with the desktop app's native dialog ("Browse…"). Where there is
 * no native dialog (browser mode, or the host said so) the button goes and the path is typed; a
 * failed pick says why through `onError`. Shared by the dialogs that read or write a folder.
 */
import { useState } from 'react';
import { api, transportName } from '../api';

export function FolderField({
  label,
  value,
  onChange,
  onError,
  placeholder,
  testId,
  autoFocus,
}: {
  label: string;
  value: string;
  onChange: (path: string) => void;
  onError: (message: string) => void;
  placeholder: string;
  testId: string;
  autoFocus?: boolean;
}) {
  const [nativePicker, setNativePicker] = useState(transportName === 'electron');
  const browse = async () => {
    let picked;
    try {
      picked = await api['system.pickFolder']();
    } catch (caught) {
      onError(caught instanceof Error ? caught.message : String(caught));
      return;
    }
    if (picked.path) onChange(picked.path);
    if (!picked.native) setNativePicker(false);
  };
  return (
    <label>
      {label}
      <span className="row">
        <input
          data-testid={testId}
          value={value}
          onChange={(event) => onChange(event.target.value)}
          placeholder={placeholder}
          autoFocus={autoFocus}
          spellCheck={false}
        />
        {nativePicker && (
          <button type="button" onClick={() => void browse()}>
            Browse…
          </button>
        )}
      </span>
    </label>
  );
}
