/**
 * What the editor registry's adjudication actions read of the adjudicator's panel, and what they
 * do to it. The panel (AdjudicationPanel, AdjudicationView) keeps its pixels and React state; it
 * publishes this snapshot into the review store (`adjudication`) and attaches its operations
 * here while it is on screen, so keys, buttons, the Shortcuts list and the menu bar all go through
 * the one registry (src/renderer/src/editor/registry.ts). A leaf: it imports nothing of ours.
 */

/** The panel as the registry sees it; null in the review store while the panel is closed. */
export interface AdjudicationSnapshot {
  /** Disputed images in the queue, and the position of the one on screen (null: none chosen). */
  queueLength: number;
  position: number | null;
  /** The chosen image, or null while none is. */
  view: AdjudicationViewSnapshot | null;
}

export interface AdjudicationViewSnapshot {
  /** The readers' numbers as on screen (1-based), and those whose label is shown. */
  readers: readonly number[];
  shown: readonly number[];
  /** The image and the readers' labels have loaded (taking a reader needs their pixels). */
  loaded: boolean;
  /** A consensus of the image is stored (outline, map and "Start from consensus" need one). */
  hasConsensus: boolean;
  showOutline: boolean;
  showMap: boolean;
  tool: 'brush' | 'eraser';
  /** A candidate final label exists (taken from a reader or the consensus, or painted). */
  hasCandidate: boolean;
  /** "Save as final" is on its way to the host. */
  busy: boolean;
}

/** What the panel does when an adjudication action runs. */
export interface AdjudicationOperations {
  toggleReader(index: number): void;
  takeReader(index: number): void;
  toggleOutline(): void;
  toggleMap(): void;
  startFromConsensus(): void;
  setTool(tool: 'brush' | 'eraser'): void;
  decide(): Promise<void>;
  /** Opens the next (1) or previous (-1) disputed image of the queue. */
  step(direction: 1 | -1): Promise<void>;
}

let attached: Partial<AdjudicationOperations> = {};

/** The panel's parts attach their operations while mounted; returns the detach. */
export function attachAdjudication(operations: Partial<AdjudicationOperations>): () => void {
  attached = { ...attached, ...operations };
  return () => {
    const rest = { ...attached };
    for (const key of Object.keys(operations) as (keyof AdjudicationOperations)[]) {
      if (rest[key] === operations[key]) delete rest[key];
    }
    attached = rest;
  };
}

/** Runs one of the panel's operations (nothing is attached while the panel is closed). */
export function adjudication(): Partial<AdjudicationOperations> {
  return attached;
}
