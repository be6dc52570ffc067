/**
 * Every keyboard shortcut of the workstation, in one table. The help overlay (`?`) lists this
 * table, and the one global key handler resolves events through `actionForKey`.
 *
 * Chord syntax: modifiers `ctrl` (Ctrl or Cmd), `alt`, `shift` joined by `+` before the key. Keys
 * are `KeyboardEvent.key` values, lower-cased for letters. Shift is part of a chord only for
 * letters and named keys: symbols such as `?`, `[`, `+` already encode it.
 */

export type ActionId =
  | 'help'
  | 'tool.brush'
  | 'tool.eraser'
  | 'tool.polygonAdd'
  | 'tool.polygonCut'
  | 'tool.fill'
  | 'tool.keepComponent'
  | 'tool.dropComponent'
  | 'tool.pan'
  | 'brush.smaller'
  | 'brush.larger'
  | 'polygon.close'
  | 'polygon.cancel'
  | 'edit.undo'
  | 'edit.redo'
  | 'edit.thresholdInto'
  | 'edit.acceptPrediction'
  | 'edit.fillHoles'
  | 'edit.removeIslands'
  | 'edit.dilate'
  | 'edit.erode'
  | 'edit.clear'
  | 'view.fit'
  | 'view.actualSize'
  | 'view.zoomIn'
  | 'view.zoomOut'
  | 'view.invert'
  | 'view.resetWindow'
  | 'view.diff'
  | 'view.outline'
  | 'layer.groundTruth'
  | 'layer.prediction'
  | 'layer.label'
  | 'nav.next'
  | 'nav.previous'
  | 'nav.nextUnreviewed'
  | 'nav.previousUnreviewed'
  | 'review.unreviewed'
  | 'review.accepted'
  | 'review.corrected'
  | 'review.flagged'
  | 'review.negative'
  | 'review.comment';

export interface Shortcut {
  action: ActionId;
  keys: readonly string[];
  group: 'Tools' | 'Editing' | 'View' | 'Layers' | 'Navigation' | 'Review' | 'Help';
  description: string;
}

export const KEYMAP: readonly Shortcut[] = [
  { action: 'help', keys: ['?'], group: 'Help', description: 'Show or hide these shortcuts' },
  { action: 'tool.brush', keys: ['b'], group: 'Tools', description: 'Brush' },
  { action: 'tool.eraser', keys: ['e'], group: 'Tools', description: 'Eraser' },
  { action: 'tool.polygonAdd', keys: ['p'], group: 'Tools', description: 'Polygon add' },
  { action: 'tool.polygonCut', keys: ['shift+p'], group: 'Tools', description: 'Polygon cut' },
  { action: 'tool.fill', keys: ['f'], group: 'Tools', description: 'Flood fill' },
  {
    action: 'tool.keepComponent',
    keys: ['k'],
    group: 'Tools',
    description: 'Keep a predicted component (click)',
  },
  {
    action: 'tool.dropComponent',
    keys: ['shift+k'],
    group: 'Tools',
    description: 'Drop a component (click)',
  },
  { action: 'tool.pan', keys: ['v'], group: 'Tools', description: 'Pan / window-level (no edit)' },
  { action: 'brush.smaller', keys: ['['], group: 'Tools', description: 'Smaller brush' },
  { action: 'brush.larger', keys: [']'], group: 'Tools', description: 'Larger brush' },
  { action: 'polygon.close', keys: ['enter'], group: 'Tools', description: 'Close the polygon' },
  { action: 'polygon.cancel', keys: ['escape'], group: 'Tools', description: 'Cancel the polygon' },
  { action: 'edit.undo', keys: ['ctrl+z'], group: 'Editing', description: 'Undo' },
  { action: 'edit.redo', keys: ['ctrl+shift+z', 'ctrl+y'], group: 'Editing', description: 'Redo' },
  {
    action: 'edit.thresholdInto',
    keys: ['t'],
    group: 'Editing',
    description: 'Add the thresholded prediction to the label',
  },
  {
    action: 'edit.acceptPrediction',
    keys: ['shift+t'],
    group: 'Editing',
    description: 'Accept the prediction as the label',
  },
  { action: 'edit.fillHoles', keys: ['h'], group: 'Editing', description: 'Fill holes' },
  {
    action: 'edit.removeIslands',
    keys: ['shift+h'],
    group: 'Editing',
    description: 'Remove islands under N pixels',
  },
  { action: 'edit.dilate', keys: ['.'], group: 'Editing', description: 'Dilate by one pixel' },
  { action: 'edit.erode', keys: [','], group: 'Editing', description: 'Erode by one pixel' },
  {
    action: 'edit.clear',
    keys: ['shift+delete'],
    group: 'Editing',
    description: 'Clear the label',
  },
  { action: 'view.fit', keys: ['0'], group: 'View', description: 'Fit to window' },
  { action: 'view.actualSize', keys: ['1'], group: 'View', description: 'Zoom 1:1' },
  { action: 'view.zoomIn', keys: ['+', '='], group: 'View', description: 'Zoom in' },
  { action: 'view.zoomOut', keys: ['-'], group: 'View', description: 'Zoom out' },
  { action: 'view.invert', keys: ['i'], group: 'View', description: 'Invert grey levels' },
  { action: 'view.resetWindow', keys: ['w'], group: 'View', description: 'Reset window/level' },
  { action: 'view.diff', keys: ['d'], group: 'View', description: 'Diff mode (TP/FP/FN)' },
  { action: 'view.outline', keys: ['o'], group: 'View', description: 'Fill or outline overlays' },
  { action: 'layer.groundTruth', keys: ['g'], group: 'Layers', description: 'Show ground truth' },
  { action: 'layer.prediction', keys: ['r'], group: 'Layers', description: 'Show prediction' },
  {
    action: 'layer.label',
    keys: ['c'],
    group: 'Layers',
    description: 'Show label (correction, else ground truth)',
  },
  { action: 'nav.next', keys: ['arrowdown', 'j'], group: 'Navigation', description: 'Next image' },
  {
    action: 'nav.previous',
    keys: ['arrowup'],
    group: 'Navigation',
    description: 'Previous image',
  },
  {
    action: 'nav.nextUnreviewed',
    keys: ['n'],
    group: 'Navigation',
    description: 'Next unreviewed image',
  },
  {
    action: 'nav.previousUnreviewed',
    keys: ['shift+n'],
    group: 'Navigation',
    description: 'Previous unreviewed image',
  },
  { action: 'review.unreviewed', keys: ['shift+u'], group: 'Review', description: 'Unreviewed' },
  { action: 'review.accepted', keys: ['a'], group: 'Review', description: 'Accepted' },
  { action: 'review.corrected', keys: ['shift+c'], group: 'Review', description: 'Corrected' },
  { action: 'review.flagged', keys: ['shift+f'], group: 'Review', description: 'Flagged' },
  {
    action: 'review.negative',
    keys: ['shift+x'],
    group: 'Review',
    description: 'Negative (no lesion)',
  },
  { action: 'review.comment', keys: ['m'], group: 'Review', description: 'Edit the comment' },
];

export interface KeyLike {
  key: string;
  ctrlKey: boolean;
  metaKey: boolean;
  altKey: boolean;
  shiftKey: boolean;
}

/** The chord string of a keyboard event, in the keymap's syntax. */
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

const byChord = new Map<string, ActionId>();
for (const shortcut of KEYMAP) {
  for (const key of shortcut.keys) {
    if (byChord.has(key)) throw new Error(`keymap: ${key} bound twice`);
    byChord.set(key, shortcut.action);
  }
}

export function actionForKey(event: KeyLike): ActionId | undefined {
  return byChord.get(chordOf(event));
}

export function keysOf(action: ActionId): readonly string[] {
  return KEYMAP.find((s) => s.action === action)?.keys ?? [];
}

/** How a chord is shown to people: `ctrl+shift+z` -> `Ctrl+Shift+Z`. */
export function formatChord(chord: string): string {
  // The key itself may be '+', which is also the separator.
  const parts =
    chord === '+'
      ? ['+']
      : chord.endsWith('++')
        ? [...chord.slice(0, -2).split('+'), '+']
        : chord.split('+');
  return parts
    .map((part) => (part.length === 1 ? part.toUpperCase() : part[0].toUpperCase() + part.slice(1)))
    .join('+')
    .replace('Arrowdown', '↓')
    .replace('Arrowup', '↑');
}
