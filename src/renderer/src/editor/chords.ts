/**
 * Key chords as the action registry writes them, and as keyboard events arrive.
 *
 * Chord syntax: modifiers `ctrl` (Ctrl or Cmd), `alt`, `shift` joined by `+` before the key. Keys
 * are `KeyboardEvent.key` values, lower-cased for letters. Shift is part of a chord only for
 * letters and named keys: symbols such as `?`, `[`, `+` already encode it.
 */

export interface KeyLike {
  key: string;
  ctrlKey: boolean;
  metaKey: boolean;
  altKey: boolean;
  shiftKey: boolean;
}

/** The chord string of a keyboard event, in the registry's syntax. */
export function chordOf(event: KeyLike): string {
  const raw = event.key;
  const key = raw.toLowerCase();
  const isSymbol = raw.length === 1 && !/[a-z0-9]/i.test(raw);
  const parts: string[] = [];
  if (event.ctrlKey || event.metaKey) parts.push('ctrl');
  if (event.altKey) parts.push('alt');
  if (event.shiftKey && !isSymbol) parts.push('shift');
  parts.push(key === ' ' ? 'space' : key);
  return parts.join('+');
}

/** A chord's parts; the key itself may be '+', which is also the separator. */
function chordParts(chord: string): string[] {
  if (chord === '+') return ['+'];
  if (chord.endsWith('++')) return [...chord.slice(0, -2).split('+'), '+'];
  return chord.split('+');
}

/** How a chord is shown to people: `ctrl+shift+z` -> `Ctrl+Shift+Z`. */
export function formatChord(chord: string): string {
  return chordParts(chord)
    .map((part) => (part.length === 1 ? part.toUpperCase() : part[0].toUpperCase() + part.slice(1)))
    .join('+')
    .replace('Arrowdown', '↓')
    .replace('Arrowup', '↑');
}

const NAMED_KEYS: Record<string, string> = {
  arrowdown: 'ArrowDown',
  arrowup: 'ArrowUp',
  enter: 'Enter',
  escape: 'Escape',
  delete: 'Delete',
  space: ' ',
};

/**
 * A chord as a key combination for input automation (Playwright's `keyboard.press`): `shift+t`
 * -> `Shift+T`, `ctrl+z` -> `Control+z`. Tests press an action's own key through this.
 */
export function pressableChord(chord: string): string {
  const parts = chordParts(chord);
  const key = parts.pop()!;
  const modifiers = parts.map((m) => (m === 'ctrl' ? 'Control' : m === 'alt' ? 'Alt' : 'Shift'));
  const shifted = modifiers.includes('Shift');
  const name = NAMED_KEYS[key] ?? (shifted && key.length === 1 ? key.toUpperCase() : key);
  return [...modifiers, name].join('+');
}
