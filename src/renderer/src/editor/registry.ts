/**
 * Every editor action and tool of the review screen, registered once: id, keys, label, whether it
 * is enabled (and why not), what it does, and whether it changes the label (and so is saved and
 * joins undo). The key handler, the buttons, the `?` help and the tests all read this one table;
 * nothing else binds a key or decides whether an action may run.
 *
 * The table is plain data and functions of an `ActionContext` handed in when an action runs
 * (./run.ts builds it from the editor), so it imports nothing that needs a page: the end-to-end
 * helpers read the same keys and ids from it.
 */
import type { ImageDetail, MaskLayer, ReviewState } from '../../../shared/contract-review';
import {
  acceptPrediction,
  clearLabel,
  dilate,
  dropComponent,
  erode,
  fillHoles,
  floodFill,
  keepComponent,
  removeIslands,
  thresholdInto,
  type DirtyRect,
  type LabelMap,
  type Point,
} from '../mask/label-map';
import { defaultWindow } from '../viewer/window-level';
import { readOnlyMessage } from '../common/read-only';
import type { ReviewStoreState, LayerId, LayerSettings } from '../review/review-store';
import { chordOf, type KeyLike } from './chords';
import { useTeamPanel } from '../team/team-panel-store';
import {
  OPEN_TEAM_DESKTOP_ONLY,
  teamProjectsBridge,
  useOpenTeamProject,
} from '../team/open-team-store';
import { adjudication } from '../adjudication/adjudication-state';

export type { Tool } from './tool';
import type { Tool } from './tool';

export type ActionGroup =
  | 'Help'
  | 'Project'
  | 'Tools'
  | 'Editing'
  | 'View'
  | 'Layers'
  | 'Navigation'
  | 'Review'
  | 'Team'
  | 'Adjudication';

/**
 * Where an action's keys work: 'review' (the review screen, everywhere but the adjudicator's
 * panel) or 'adjudication' (while the focus is in the adjudicator's panel, which has keys of its
 * own: 1..9 are readers there). A chord is bound once per scope; a scope's keys never reach
 * another's actions.
 */
export type KeyScope = 'review' | 'adjudication';

/** What `enabled` and `active` read: the review screen's state. */
export type EditorState = ReviewStoreState;

/** The label and the prediction of the open image, handed to a label operation. */
export interface EditTarget {
  /** Raw 0..255 probabilities of the active model's prediction. */
  prediction: Uint8Array | null;
  /** The prediction at the current threshold (0/1). */
  predictionBinary: Uint8Array | null;
}

export type LabelOperation = (label: LabelMap, target: EditTarget) => DirtyRect;

/** What an action may do to the editor; built by ./run.ts around the controller and the store. */
export interface ActionContext {
  state: EditorState;
  set(patch: Partial<EditorState>): void;
  setLayer(id: LayerId, patch: Partial<LayerSettings>): void;
  /** Runs `operation` on the label as one edit: repainted, saved, undoable. */
  edit(operation: LabelOperation): void;
  /** Fills (or cuts) the polygon into the label as one edit. */
  polygon(points: readonly Point[], cut: boolean): void;
  strokeBegin(point: Point, erase: boolean): void;
  undo(redo: boolean): Promise<void>;
  setReview(patch: { state?: ReviewState; comment?: string }): Promise<void>;
  reapplyRejectedEdit(): void;
  discardRejectedEdit(): void;
  /** Repaints after a change of window (image), layer style (layers) or diff settings (diff). */
  repaint(what: 'image' | 'layers' | 'diff'): void;
  fitView(): void;
  actualSizeView(): void;
  zoomView(factor: number): void;
  /** Opens the next (1) or previous (-1) image of the worklist, optionally unreviewed only. */
  step(direction: 1 | -1, unreviewedOnly: boolean): Promise<void>;
  focusComment(): void;
}

/** What a pointer press with a tool starts: a stroke, a pan drag, or nothing more. */
export type PressResult = 'stroke' | 'pan' | null;

export interface ToolBehaviour {
  id: Tool;
  /** The viewer's pointer while the tool is chosen ('brush' draws its own circle). */
  cursor: 'brush' | 'crosshair' | 'grab';
  /** A primary-button press on the image at `point` (image pixels). */
  press(context: ActionContext, point: Point, modifiers: { alt: boolean }): PressResult;
}

export interface EditorAction {
  id: string;
  group: ActionGroup;
  /** Short name on its button. */
  label: string;
  /** What it does, in the help and the button's tooltip. */
  description: string;
  /** Chords (see ./chords.ts); empty for actions that only have a button. */
  keys: readonly string[];
  /** Changes the label: saved as a revision and undoable (and needs an open image). */
  editsLabel: boolean;
  /** Saves the image's review state or comment. Like label edits, off in a read-only project. */
  savesReview?: boolean;
  /** Held keys repeat the action (brush size, zoom). */
  repeats?: boolean;
  /** Also runs from inside a text field (which it leaves). */
  leavesTextFields?: boolean;
  /** The button's data-testid, when the action has a button. */
  testId?: string;
  /** true, or the reason the action cannot run now (shown on hover and when its key is pressed). */
  enabled?: (state: EditorState) => true | string;
  /** Whether its button shows as on (the chosen tool, the image's review state, a shown layer). */
  active?: (state: EditorState) => boolean;
  perform: (context: ActionContext) => void | Promise<void>;
  /** Tool actions: what the tool does under the pointer. */
  tool?: ToolBehaviour;
  /** Where its keys work (default 'review'). */
  scope?: KeyScope;
}

export const NO_IMAGE = 'Open an image from the worklist first';
export const FAILED_IMAGE = 'Label tools are off: this image cannot be shown';
export const LOADING_IMAGE = 'The selected image is still loading';

/**
 * Why a prediction cannot be used now, or null when it can. A project without a model gets the
 * way to one (Train, then Predict), never a silent no-op.
 */
export function predictionUnavailable(detail: ImageDetail | null): string | null {
  if (!detail) return NO_IMAGE;
  if (detail.activeModel === null) {
    return 'No model yet: train one (Training… → Start training), then run Predict';
  }
  if (detail.predictionRevisionId === null) {
    return `No prediction of ${detail.activeModel} for this image yet: run Predict (Training…)`;
  }
  return null;
}

const needsPrediction = (state: EditorState): true | string =>
  predictionUnavailable(state.detail) ?? true;

const isPolygonTool = (tool: Tool) => tool === 'polygonAdd' || tool === 'polygonCut';

function defineTool(
  tool: Tool,
  fields: Omit<EditorAction, 'id' | 'group' | 'perform' | 'tool' | 'active' | 'editsLabel'> & {
    cursor: ToolBehaviour['cursor'];
    press: ToolBehaviour['press'];
    editsLabel?: boolean;
  },
): EditorAction {
  const { cursor, press, editsLabel = true, ...rest } = fields;
  return {
    id: `tool.${tool}`,
    group: 'Tools',
    editsLabel,
    ...rest,
    testId: `tool-${tool}`,
    active: (state) => state.tool === tool,
    perform: (context) => context.set({ tool, polygon: [] }),
    tool: { id: tool, cursor, press },
  };
}

const addPolygonPoint = (context: ActionContext, point: Point): PressResult => {
  context.set({ polygon: [...context.state.polygon, point] });
  return null;
};

function reviewStateAction(state: ReviewState, key: string, description: string): EditorAction {
  return {
    id: `review.${state}`,
    group: 'Review',
    label: state,
    description,
    keys: [key],
    editsLabel: false,
    savesReview: true,
    testId: `review-state-${state}`,
    enabled: (s) => (s.detail ? true : NO_IMAGE),
    active: (s) => s.detail?.reviewState === state,
    perform: (context) => context.setReview({ state }),
  };
}

function layerAction(layer: MaskLayer, key: string, label: string): EditorAction {
  return {
    id: `layer.${layer === 'ground-truth' ? 'groundTruth' : layer}`,
    group: 'Layers',
    label,
    description: `Show or hide the ${label.toLowerCase()} layer`,
    keys: [key],
    editsLabel: false,
    testId: `layer-visible-${layer}`,
    active: (state) => state.layers[layer].visible,
    perform: (context) =>
      context.setLayer(layer, { visible: !context.state.layers[layer].visible }),
  };
}

/** The adjudicator's panel: enabled while an image of its queue is on screen. */
const NO_DISPUTE = 'Open Adjudication… and choose a disputed image first';
const NO_CONSENSUS = 'No consensus is stored for this image (run Consensus in the Team panel)';
/** Reader layers and "Take reader N" exist for readers 1..9 (the keys 1..9). */
const ADJUDICATION_READERS = [1, 2, 3, 4, 5, 6, 7, 8, 9] as const;

const adjudicationView = (state: EditorState) => state.adjudication?.view ?? null;

function adjudicationAction(
  fields: Omit<EditorAction, 'group' | 'scope' | 'editsLabel'>,
): EditorAction {
  return { group: 'Adjudication', scope: 'adjudication', editsLabel: false, ...fields };
}

function readerEnabled(index: number) {
  return (state: EditorState): true | string => {
    const view = adjudicationView(state);
    if (!view) return NO_DISPUTE;
    return view.readers.includes(index) ? true : `This image has no reader ${index}`;
  };
}

const ADJUDICATION_ACTIONS: readonly EditorAction[] = [
  ...ADJUDICATION_READERS.map((index) =>
    adjudicationAction({
      id: `adjudication.reader${index}`,
      label: `Reader ${index}`,
      description: `Adjudication: show or hide reader ${index}'s label`,
      keys: [String(index)],
      testId: `adj-reader-${index}`,
      enabled: readerEnabled(index),
      active: (state) => adjudicationView(state)?.shown.includes(index) ?? false,
      perform: () => adjudication().toggleReader?.(index),
    }),
  ),
  ...ADJUDICATION_READERS.map((index) =>
    adjudicationAction({
      id: `adjudication.take${index}`,
      label: `Take reader ${index}`,
      description: `Adjudication: start the final label from reader ${index}'s label`,
      // A button of each reader's row: Shift+digit is a symbol on most layouts, and Alt/Ctrl+digit
      // switch the browser's tabs.
      keys: [],
      testId: `adj-take-${index}`,
      enabled: (state) => {
        const enabled = readerEnabled(index)(state);
        if (enabled !== true) return enabled;
        return adjudicationView(state)?.loaded ? true : "The readers' labels are still loading";
      },
      perform: () => adjudication().takeReader?.(index),
    }),
  ),
  adjudicationAction({
    id: 'adjudication.outline',
    label: 'Consensus outline',
    description: "Adjudication: show or hide the consensus' outline",
    keys: ['c'],
    testId: 'adj-outline',
    enabled: (state) => {
      const view = adjudicationView(state);
      return !view ? NO_DISPUTE : view.hasConsensus ? true : NO_CONSENSUS;
    },
    active: (state) => adjudicationView(state)?.showOutline ?? false,
    perform: () => adjudication().toggleOutline?.(),
  }),
  adjudicationAction({
    id: 'adjudication.map',
    label: 'Probability map',
    description: "Adjudication: show or hide the consensus' probability map",
    keys: ['p'],
    testId: 'adj-map',
    enabled: (state) => {
      const view = adjudicationView(state);
      return !view ? NO_DISPUTE : view.hasConsensus ? true : NO_CONSENSUS;
    },
    active: (state) => adjudicationView(state)?.showMap ?? false,
    perform: () => adjudication().toggleMap?.(),
  }),
  adjudicationAction({
    id: 'adjudication.fromConsensus',
    label: 'Start from consensus',
    description: 'Adjudication: start the final label from the consensus',
    keys: ['s'],
    testId: 'adj-from-consensus',
    enabled: (state) => {
      const view = adjudicationView(state);
      return !view ? NO_DISPUTE : view.hasConsensus ? true : NO_CONSENSUS;
    },
    perform: () => adjudication().startFromConsensus?.(),
  }),
  adjudicationAction({
    id: 'adjudication.brush',
    label: 'Brush',
    description: 'Adjudication: paint into the final label',
    keys: ['b'],
    testId: 'adj-brush',
    enabled: (state) => (adjudicationView(state) ? true : NO_DISPUTE),
    active: (state) => adjudicationView(state)?.tool === 'brush',
    perform: () => adjudication().setTool?.('brush'),
  }),
  adjudicationAction({
    id: 'adjudication.eraser',
    label: 'Eraser',
    description: 'Adjudication: erase from the final label',
    keys: ['e'],
    testId: 'adj-eraser',
    enabled: (state) => (adjudicationView(state) ? true : NO_DISPUTE),
    active: (state) => adjudicationView(state)?.tool === 'eraser',
    perform: () => adjudication().setTool?.('eraser'),
  }),
  adjudicationAction({
    id: 'adjudication.decide',
    label: 'Save as final',
    description: 'Adjudication: save the final label as the label in force',
    keys: ['ctrl+enter'],
    testId: 'adj-save',
    enabled: (state) => {
      const view = adjudicationView(state);
      if (!view) return NO_DISPUTE;
      if (view.busy) return 'The final label is being saved';
      if (state.readOnly) return readOnlyMessage(state.readOnly);
      return view.hasCandidate ? true : 'Take a reader or start from the consensus first';
    },
    perform: () => adjudication().decide?.(),
  }),
  adjudicationAction({
    id: 'adjudication.next',
    label: 'Next disputed',
    description: 'Adjudication: the next disputed image',
    keys: ['arrowdown', 'j'],
    enabled: (state) =>
      state.adjudication && state.adjudication.queueLength > 0 ? true : 'No disputed image left',
    perform: () => adjudication().step?.(1),
  }),
  adjudicationAction({
    id: 'adjudication.previous',
    label: 'Previous disputed',
    description: 'Adjudication: the previous disputed image',
    keys: ['arrowup', 'k'],
    enabled: (state) =>
      state.adjudication && state.adjudication.queueLength > 0 ? true : 'No disputed image left',
    perform: () => adjudication().step?.(-1),
  }),
];

export const ACTIONS: readonly EditorAction[] = [
  {
    id: 'help',
    group: 'Help',
    label: 'Shortcuts',
    description: 'Show or hide these shortcuts',
    keys: ['?'],
    editsLabel: false,
    testId: 'help-button',
    active: (state) => state.helpOpen,
    perform: (context) => context.set({ helpOpen: !context.state.helpOpen }),
  },
  {
    id: 'project.openTeam',
    group: 'Project',
    label: 'Open team project…',
    description:
      'Open a team project (qataseg serve --team) by its URL, in a window of its own: its sign-in page, then its review',
    keys: ['ctrl+shift+l'],
    editsLabel: false,
    enabled: () => (teamProjectsBridge() ? true : OPEN_TEAM_DESKTOP_ONLY),
    perform: () => useOpenTeamProject.getState().setOpen(true),
  },
  {
    id: 'project.pacs',
    group: 'Project',
    label: 'PACS…',
    description: 'Search a PACS and retrieve studies into the project',
    keys: ['ctrl+shift+o'],
    editsLabel: false,
    testId: 'open-pacs',
    perform: (context) => context.set({ pacsOpen: true, helpOpen: false }),
  },
  {
    id: 'team.plans',
    group: 'Team',
    label: 'Reading plans…',
    description: 'Team review: create reading plans and follow each reader’s progress',
    keys: ['shift+r'],
    editsLabel: false,
    testId: 'plans-button',
    active: (state) => state.plansOpen,
    perform: (context) => context.set({ plansOpen: !context.state.plansOpen }),
  },

  defineTool('brush', {
    label: 'Brush',
    description: 'Brush: paint into the label (Alt erases)',
    keys: ['b'],
    cursor: 'brush',
    press: (context, point, { alt }) => {
      context.strokeBegin(point, alt);
      return 'stroke';
    },
  }),
  defineTool('eraser', {
    label: 'Eraser',
    description: 'Eraser: erase from the label',
    keys: ['e'],
    cursor: 'brush',
    press: (context, point) => {
      context.strokeBegin(point, true);
      return 'stroke';
    },
  }),
  defineTool('polygonAdd', {
    label: 'Poly +',
    description: 'Polygon add: click points, Enter or double-click closes',
    keys: ['p'],
    cursor: 'crosshair',
    press: addPolygonPoint,
  }),
  defineTool('polygonCut', {
    label: 'Poly −',
    description: 'Polygon cut: click points, Enter or double-click cuts',
    keys: ['shift+p'],
    cursor: 'crosshair',
    press: addPolygonPoint,
  }),
  defineTool('fill', {
    label: 'Fill',
    description: 'Flood fill the region under the click',
    keys: ['f'],
    cursor: 'crosshair',
    press: (context, point) => {
      context.edit((label) => floodFill(label, point.x, point.y, 1));
      return null;
    },
  }),
  defineTool('keepComponent', {
    label: 'Keep',
    description: 'Keep a predicted component: click it to add it to the label',
    keys: ['k'],
    cursor: 'crosshair',
    enabled: needsPrediction,
    press: (context, point) => {
      context.edit((label, target) =>
        target.predictionBinary
          ? keepComponent(label, target.predictionBinary, point.x, point.y)
          : { x0: 0, y0: 0, x1: 0, y1: 0 },
      );
      return null;
    },
  }),
  defineTool('dropComponent', {
    label: 'Drop',
    description: 'Drop a component: click a label (or predicted) component to remove it',
    keys: ['shift+k'],
    cursor: 'crosshair',
    press: (context, point) => {
      context.edit((label, target) =>
        dropComponent(label, point.x, point.y, target.predictionBinary ?? undefined),
      );
      return null;
    },
  }),
  defineTool('pan', {
    label: 'Pan',
    description: 'Pan / window-level (no edit)',
    keys: ['v'],
    editsLabel: false,
    cursor: 'grab',
    press: () => 'pan',
  }),
  {
    id: 'brush.smaller',
    group: 'Tools',
    label: 'Smaller',
    description: 'Smaller brush',
    keys: ['['],
    editsLabel: false,
    repeats: true,
    perform: (context) =>
      context.set({ brushRadius: Math.max(1, Math.round(context.state.brushRadius / 1.25)) }),
  },
  {
    id: 'brush.larger',
    group: 'Tools',
    label: 'Larger',
    description: 'Larger brush',
    keys: [']'],
    editsLabel: false,
    repeats: true,
    perform: (context) =>
      context.set({ brushRadius: Math.min(200, Math.ceil(context.state.brushRadius * 1.25)) }),
  },
  {
    id: 'polygon.close',
    group: 'Tools',
    label: 'Close polygon',
    description: 'Close the polygon (fill, or cut with Poly −)',
    keys: ['enter'],
    editsLabel: true,
    enabled: (state) =>
      isPolygonTool(state.tool) && state.polygon.length >= 3
        ? true
        : 'Click at least three points with a polygon tool first',
    perform: (context) => {
      const { polygon, tool } = context.state;
      context.set({ polygon: [] });
      context.polygon(polygon, tool === 'polygonCut');
    },
  },
  {
    id: 'polygon.cancel',
    group: 'Tools',
    label: 'Cancel',
    description: 'Cancel the polygon, close the help, or leave a text field',
    keys: ['escape'],
    editsLabel: false,
    leavesTextFields: true,
    perform: (context) => context.set({ polygon: [], helpOpen: false }),
  },

  {
    id: 'edit.undo',
    group: 'Editing',
    label: 'Undo',
    description: 'Undo the last edit of the label',
    keys: ['ctrl+z'],
    editsLabel: true,
    testId: 'undo',
    enabled: (state) => (state.detail?.canUndo ? true : 'Nothing to undo'),
    perform: (context) => context.undo(false),
  },
  {
    id: 'edit.redo',
    group: 'Editing',
    label: 'Redo',
    description: 'Redo the edit undone last',
    keys: ['ctrl+shift+z', 'ctrl+y'],
    editsLabel: true,
    testId: 'redo',
    enabled: (state) => (state.detail?.canRedo ? true : 'Nothing to redo'),
    perform: (context) => context.undo(true),
  },
  {
    id: 'edit.thresholdInto',
    group: 'Editing',
    label: 'Add pred.',
    description: 'Add the thresholded prediction to the label',
    keys: ['t'],
    editsLabel: true,
    testId: 'op-threshold-into',
    enabled: needsPrediction,
    perform: (context) => {
      const { threshold } = context.state;
      context.edit((label, target) =>
        target.prediction
          ? thresholdInto(label, target.prediction, threshold)
          : { x0: 0, y0: 0, x1: 0, y1: 0 },
      );
    },
  },
  {
    id: 'edit.acceptPrediction',
    group: 'Editing',
    label: 'Accept pred.',
    description: 'Accept the thresholded prediction as the label',
    keys: ['shift+t'],
    editsLabel: true,
    testId: 'op-accept',
    enabled: needsPrediction,
    perform: (context) => {
      const { threshold } = context.state;
      context.edit((label, target) =>
        target.prediction
          ? acceptPrediction(label, target.prediction, threshold)
          : { x0: 0, y0: 0, x1: 0, y1: 0 },
      );
    },
  },
  {
    id: 'edit.fillHoles',
    group: 'Editing',
    label: 'Fill holes',
    description: 'Fill holes in the label',
    keys: ['h'],
    editsLabel: true,
    testId: 'op-fill-holes',
    perform: (context) => context.edit((label) => fillHoles(label)),
  },
  {
    id: 'edit.removeIslands',
    group: 'Editing',
    label: 'Rm islands',
    description: 'Remove islands under N pixels (N below the buttons)',
    keys: ['shift+h'],
    editsLabel: true,
    testId: 'op-remove-islands',
    perform: (context) => {
      const { islandMinPixels } = context.state;
      context.edit((label) => removeIslands(label, islandMinPixels));
    },
  },
  {
    id: 'edit.dilate',
    group: 'Editing',
    label: 'Dilate',
    description: 'Dilate the label by one pixel',
    keys: ['.'],
    editsLabel: true,
    testId: 'op-dilate',
    perform: (context) => context.edit((label) => dilate(label)),
  },
  {
    id: 'edit.erode',
    group: 'Editing',
    label: 'Erode',
    description: 'Erode the label by one pixel',
    keys: [','],
    editsLabel: true,
    testId: 'op-erode',
    perform: (context) => context.edit((label) => erode(label)),
  },
  {
    id: 'edit.clear',
    group: 'Editing',
    label: 'Clear',
    description: 'Clear the label',
    keys: ['shift+delete'],
    editsLabel: true,
    testId: 'op-clear',
    perform: (context) => context.edit((label) => clearLabel(label)),
  },
  {
    id: 'edit.reapplyRejected',
    group: 'Editing',
    label: 'Re-apply my edit',
    description: 'Re-apply an edit a newer save refused, on top of the newer label',
    keys: [],
    editsLabel: true,
    testId: 'conflict-reapply',
    enabled: (state) =>
      state.conflict && state.conflict.imageId === state.detail?.id
        ? true
        : 'No refused edit on this image',
    perform: (context) => context.reapplyRejectedEdit(),
  },
  {
    id: 'edit.discardRejected',
    group: 'Editing',
    label: 'Discard my edit',
    description: 'Discard an edit a newer save refused (the newer label stands)',
    keys: [],
    editsLabel: false,
    testId: 'conflict-discard',
    enabled: (state) =>
      state.conflict && state.conflict.imageId === state.detail?.id
        ? true
        : 'No refused edit on this image',
    perform: (context) => context.discardRejectedEdit(),
  },

  {
    id: 'view.fit',
    group: 'View',
    label: 'Fit',
    description: 'Fit the image to the window',
    keys: ['0'],
    editsLabel: false,
    perform: (context) => context.fitView(),
  },
  {
    id: 'view.actualSize',
    group: 'View',
    label: '1:1',
    description: 'Zoom 1:1',
    keys: ['1'],
    editsLabel: false,
    perform: (context) => context.actualSizeView(),
  },
  {
    id: 'view.zoomIn',
    group: 'View',
    label: 'Zoom in',
    description: 'Zoom in',
    keys: ['+', '='],
    editsLabel: false,
    repeats: true,
    perform: (context) => context.zoomView(1.25),
  },
  {
    id: 'view.zoomOut',
    group: 'View',
    label: 'Zoom out',
    description: 'Zoom out',
    keys: ['-'],
    editsLabel: false,
    repeats: true,
    perform: (context) => context.zoomView(0.8),
  },
  {
    id: 'view.invert',
    group: 'View',
    label: 'Invert',
    description: 'Invert grey levels',
    keys: ['i'],
    editsLabel: false,
    testId: 'invert',
    active: (state) => state.window?.invert ?? false,
    perform: (context) => {
      const { window, maxValue } = context.state;
      const current = window ?? defaultWindow(maxValue);
      context.set({ window: { ...current, invert: !current.invert } });
      context.repaint('image');
    },
  },
  {
    id: 'view.resetWindow',
    group: 'View',
    label: 'Reset W/L',
    description: 'Reset window/level',
    keys: ['w'],
    editsLabel: false,
    perform: (context) => {
      context.set({ window: defaultWindow(context.state.maxValue) });
      context.repaint('image');
    },
  },
  {
    id: 'view.diff',
    group: 'View',
    label: 'Diff mode',
    description: 'Diff mode: TP / FP / FN of the chosen pair of layers',
    keys: ['d'],
    editsLabel: false,
    testId: 'diff-mode',
    active: (state) => state.diff.enabled,
    perform: (context) => {
      const { diff } = context.state;
      context.set({ diff: { ...diff, enabled: !diff.enabled } });
      context.repaint('diff');
    },
  },
  {
    id: 'view.outline',
    group: 'View',
    label: 'Outline',
    description: 'Outline or fill the selected layer (the one ticked ● in Layers)',
    keys: ['o'],
    editsLabel: false,
    perform: (context) => {
      const { selectedLayer, layers } = context.state;
      context.setLayer(selectedLayer, { outline: !layers[selectedLayer].outline });
      context.repaint('layers');
    },
  },

  layerAction('ground-truth', 'g', 'Ground truth'),
  layerAction('prediction', 'r', 'Prediction'),
  layerAction('label', 'c', 'Label (correction, else ground truth)'),

  {
    id: 'team.panel',
    group: 'View',
    label: 'Team',
    description:
      'Team panel: reader agreement, the reader-pair Dice matrix and consensus of the reading plan',
    keys: ['shift+a'],
    editsLabel: false,
    perform: () => useTeamPanel.getState().setOpen(true),
  },

  {
    id: 'nav.next',
    group: 'Navigation',
    label: 'Next',
    description: 'Next image',
    keys: ['arrowdown', 'j'],
    editsLabel: false,
    perform: (context) => context.step(1, false),
  },
  {
    id: 'nav.previous',
    group: 'Navigation',
    label: 'Previous',
    description: 'Previous image',
    keys: ['arrowup'],
    editsLabel: false,
    perform: (context) => context.step(-1, false),
  },
  {
    id: 'nav.nextUnreviewed',
    group: 'Navigation',
    label: 'Next unreviewed',
    description: 'Next unreviewed image',
    keys: ['n'],
    editsLabel: false,
    perform: (context) => context.step(1, true),
  },
  {
    id: 'nav.previousUnreviewed',
    group: 'Navigation',
    label: 'Previous unreviewed',
    description: 'Previous unreviewed image',
    keys: ['shift+n'],
    editsLabel: false,
    perform: (context) => context.step(-1, true),
  },

  reviewStateAction('unreviewed', 'shift+u', 'Mark unreviewed'),
  reviewStateAction('accepted', 'a', 'Mark accepted'),
  reviewStateAction('corrected', 'shift+c', 'Mark corrected'),
  reviewStateAction('flagged', 'shift+f', 'Mark flagged'),
  reviewStateAction('negative', 'shift+x', 'Mark negative (no lesion)'),
  {
    id: 'review.comment',
    group: 'Review',
    label: 'Comment',
    description: 'Edit the comment',
    keys: ['m'],
    editsLabel: false,
    savesReview: true,
    enabled: (state) => (state.detail ? true : NO_IMAGE),
    perform: (context) => context.focusComment(),
  },

  ...ADJUDICATION_ACTIONS,
];

export const ACTION_GROUPS: readonly ActionGroup[] = [
  'Help',
  'Project',
  'Tools',
  'Editing',
  'View',
  'Layers',
  'Navigation',
  'Review',
  'Team',
  'Adjudication',
];

const byId = new Map<string, EditorAction>();
/** Per key scope: chord -> action. */
const byChord = new Map<string, EditorAction>();
const byTool = new Map<Tool, EditorAction>();
const scopedChord = (scope: KeyScope, chord: string) => `${scope} ${chord}`;
for (const action of ACTIONS) {
  if (byId.has(action.id)) throw new Error(`actions: ${action.id} registered twice`);
  byId.set(action.id, action);
  const scope = action.scope ?? 'review';
  for (const key of action.keys) {
    if (byChord.has(scopedChord(scope, key))) {
      throw new Error(`actions: ${key} bound twice in ${scope}`);
    }
    byChord.set(scopedChord(scope, key), action);
  }
  if (action.tool) byTool.set(action.tool.id, action);
}

export function actionById(id: string): EditorAction {
  const action = byId.get(id);
  if (!action) throw new Error(`no editor action ${id}`);
  return action;
}

/** The action a key runs where the focus is (`scope`, default the review screen). */
export function actionForKey(event: KeyLike, scope: KeyScope = 'review'): EditorAction | undefined {
  return byChord.get(scopedChord(scope, chordOf(event)));
}

export function actionOfTool(tool: Tool): EditorAction {
  return byTool.get(tool)!;
}

/** Why `action` cannot run in `state`, or null when it can. */
export function disabledReason(action: EditorAction, state: EditorState): string | null {
  if (state.readOnly && (action.editsLabel || action.savesReview)) {
    return readOnlyMessage(state.readOnly);
  }
  // An image that cannot be shown has no label to edit (its review state and comment stay on).
  if (action.editsLabel && state.imageFailure && state.imageFailure.imageId === state.selectedId) {
    return `${FAILED_IMAGE}: ${state.imageFailure.reason}`;
  }
  // Choosing a tool needs no image; using it does (the viewer has nothing to press on without).
  if (action.editsLabel && !action.tool && !state.detail) return NO_IMAGE;
  // The detail on screen is still the previous image's while the selected one loads.
  if (
    (action.editsLabel || action.savesReview) &&
    !action.tool &&
    state.detail &&
    state.detail.id !== state.selectedId
  ) {
    return LOADING_IMAGE;
  }
  const enabled = action.enabled?.(state) ?? true;
  return enabled === true ? null : enabled;
}
