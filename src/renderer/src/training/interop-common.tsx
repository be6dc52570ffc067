/** Pieces the Training panel's interop forms share: messages, paths, a choice. */
import { api } from '../api';

export function message(error: unknown): string {
  return error instanceof Error ? error.message : String(error);
}

/** Picks a folder with the native dialog where there is one; null when the user types paths. */
export async function pickFolder(): Promise<string | null> {
  const picked = await api['system.pickFolder']();
  return picked.path;
}

export function joinPath(folder: string, name: string): string {
  const separator = folder.includes('\\') && !folder.includes('/') ? '\\' : '/';
  return folder.endsWith(separator) ? `${folder}${name}` : `${folder}${separator}${name}`;
}

/** A select whose first option is "choose…": nothing is preselected. */
export function Choice(props: {
  label: string;
  value: string;
  options: readonly string[];
  testId: string;
  onChange: (value: string) => void;
}) {
  return (
    <label>
      {props.label}{' '}
      <select
        value={props.value}
        data-testid={props.testId}
        onChange={(event) => props.onChange(event.target.value)}
      >
        <option value="">choose…</option>
        {props.options.map((option) => (
          <option key={option} value={option}>
            {option}
          </option>
        ))}
      </select>
    </label>
  );
}
