/**
 * The save queue: every finished edit of an image bumps its edit version and starts (or extends)
 * that image's save loop, which encodes the label and calls `masks.save` with the image's id and
 * the revision the edit started from. Each loop is bound to its image (its `Bundle`), never to
 * whatever is on screen when the answer comes: switching images leaves the old image's loop
 * running, and the next load of that image waits for it, so no acknowledged stroke is lost,
 * reordered or applied elsewhere.
 *
 * A save the host refuses with 'conflict' (another save moved the label first) reloads the host's
 * latest label into the editor and keeps the refused edit (the pixels it changed) until the user
 * re-applies it on top of the latest label or discards it; nothing is overwritten silently.
 */
import type { ImageDetail, ImageListItem } from '../../../shared/contract-review';
import { apiErrorCode } from '../../../shared/contract';
import { api } from '../api';
import { notify } from '../common/notices';
import { binarize, type LabelMap } from '../mask/label-map';
import { encodeLabelPng, type SourceImage } from './media';
import { loadLabel } from './open-image';
import { useReviewStore, type SaveConflict } from './review-store';

/** An open image being edited: its pixels, masks, label and how far its edits are saved. */
export interface Bundle {
  detail: ImageDetail;
  image: SourceImage;
  groundTruth: Uint8Array | null;
  /** Raw 0..255 probabilities. */
  prediction: Uint8Array | null;
  predictionBinary: Uint8Array | null;
  label: LabelMap;
  baseRevisionId: number | null;
  /** The pixels of `baseRevisionId` (what the host has): a refused edit is measured against it. */
  baseLabel: Uint8Array;
  editVersion: number;
  savedVersion: number;
  saving: Promise<void> | null;
}

/** An edit the host refused (conflict): the editor's pixels then, and the revision they built on. */
export interface RejectedEdit {
  mine: Uint8Array;
  base: Uint8Array;
  reloaded: boolean;
  latestRevisionId: number | null;
}

function sameBytes(a: Uint8Array, b: Uint8Array): boolean {
  if (a.length !== b.length) return false;
  for (let i = 0; i < a.length; i++) if (a[i] !== b[i]) return false;
  return true;
}

function changedCount(edit: RejectedEdit): number {
  let changed = 0;
  for (let i = 0; i < edit.mine.length; i++) if (edit.mine[i] !== edit.base[i]) changed++;
  return changed;
}

/** What a worklist row shows that a change of the image can change (Dice is against the label). */
export function listFigures(detail: ImageDetail): Partial<ImageListItem> {
  return {
    reviewState: detail.reviewState,
    hasCorrection: detail.correctionRevisionId !== null,
    status: detail.status,
    sha256: detail.sha256,
    ...(detail.prediction ? { dice: detail.prediction.dice } : {}),
  };
}

function message(error: unknown): string {
  return error instanceof Error ? error.message : String(error);
}

/** What the queue needs of the editor: whether an image is on screen, and a repaint of it. */
export interface SaveQueueHost {
  isShown(b: Bundle): boolean;
  /** Repaints the shown label (and diff, figures) after the queue changed its pixels. */
  repaintLabel(): void;
  /** A preloaded detail of the image is out of date. */
  forgetPreloaded(imageId: number): void;
}

export class SaveQueue {
  private pendingSaves = new Map<number, Promise<void>>();
  /** Refused edits by image, kept across image switches until re-applied or discarded. */
  private rejectedEdits = new Map<number, RejectedEdit>();

  constructor(private readonly host: SaveQueueHost) {}

  /** Waits for the saves of `imageId` still on their way (before it is opened again). */
  settled(imageId: number): Promise<void> | undefined {
    return this.pendingSaves.get(imageId);
  }

  /** True while some image still has an edit on its way to the host. */
  get pending(): boolean {
    return this.pendingSaves.size > 0;
  }

  /** A refused edit of `imageId` now sits beside the label just loaded from the host. */
  labelReloaded(imageId: number, latestRevisionId: number | null): void {
    const rejected = this.rejectedEdits.get(imageId);
    if (rejected) {
      rejected.reloaded = true;
      rejected.latestRevisionId = latestRevisionId;
    }
  }

  /**
   * Takes the refused edit of `imageId` out of the queue (to re-apply it on a label of
   * `pixelCount` pixels), if there is one of that size.
   */
  takeRejected(imageId: number, pixelCount: number): RejectedEdit | null {
    const rejected = this.rejectedEdits.get(imageId);
    if (!rejected || rejected.mine.length !== pixelCount) return null;
    this.rejectedEdits.delete(imageId);
    return rejected;
  }

  /** Drops a refused edit: the newer save stands. */
  discardRejected(imageId: number): void {
    this.rejectedEdits.delete(imageId);
  }

  /** Saves `b`'s edits: starts its save loop, or lets the running one pick the new edit up. */
  start(b: Bundle): void {
    if (this.host.isShown(b))
      useReviewStore.getState().set({ saveStatus: 'saving', saveError: null });
    if (b.saving) return;
    const imageId = b.detail.id;
    b.saving = this.saveLoop(b).finally(() => {
      b.saving = null;
      this.pendingSaves.delete(imageId);
    });
    this.pendingSaves.set(imageId, b.saving);
  }

  private async saveLoop(b: Bundle): Promise<void> {
    const imageId = b.detail.id;
    const isCurrent = () => this.host.isShown(b);
    let failures = 0;
    while (b.savedVersion < b.editVersion) {
      const version = b.editVersion;
      const saved = b.label.data.slice();
      try {
        const png = await encodeLabelPng(saved, b.label.width, b.label.height);
        const detail = await api['masks.save']({
          imageId,
          png,
          baseRevisionId: b.baseRevisionId,
          // An edit marks the image corrected, except that a flag stays until someone clears it.
          reviewState: b.detail.reviewState === 'flagged' ? 'flagged' : 'corrected',
        });
        failures = 0;
        b.baseRevisionId = detail.labelRevisionId;
        b.baseLabel = saved;
        b.savedVersion = version;
        this.host.forgetPreloaded(imageId);
        b.detail = detail;
        const store = useReviewStore.getState();
        store.patchItem(imageId, listFigures(detail));
        if (isCurrent()) store.set({ detail });
      } catch (error) {
        const code = apiErrorCode(error);
        if (code === 'conflict') {
          if (await this.resolveConflict(b, message(error), { version, saved })) continue;
          return;
        }
        if (code === 'read-only') {
          this.refusedAsReadOnly(b, message(error));
          return;
        }
        if (code === 'bad-request' || code === 'not-found') {
          // The host will never take this save as it is: say so; the next edit tries again.
          if (isCurrent()) {
            useReviewStore.getState().set({ saveStatus: 'error', saveError: message(error) });
          }
          return;
        }
        // Unreachable, restarting, busy or refusing the token for now: the edit stays in this
        // page (and this loop) and is sent again, sooner when the connection comes back.
        failures++;
        if (isCurrent()) {
          useReviewStore.getState().set({ saveStatus: 'retrying', saveError: message(error) });
        }
        await this.retryDelay(failures);
      }
    }
    if (isCurrent()) useReviewStore.getState().set({ saveStatus: 'saved', saveError: null });
  }

  /**
   * The host refused a save of `b` because the project is open read-only: nothing can be saved,
   * so the editor goes back to what the host has, and says why where the user is looking.
   */
  private refusedAsReadOnly(b: Bundle, reason: string): void {
    b.savedVersion = b.editVersion;
    b.label.data.set(b.baseLabel);
    notify(`Edit of ${b.detail.name} not saved: ${reason}`, { key: 'read-only' });
    if (!this.host.isShown(b)) return;
    useReviewStore.getState().set({ saveStatus: 'read-only', saveError: reason });
    this.host.repaintLabel();
  }

  private retryWaiters = new Set<() => void>();

  /** Waits before the next attempt of a save: 1, 2, 4, 8, then every 10 s, or until asked. */
  private retryDelay(failures: number): Promise<void> {
    return new Promise((resolve) => {
      const done = () => {
        clearTimeout(timer);
        this.retryWaiters.delete(done);
        resolve();
      };
      const timer = setTimeout(done, Math.min(10_000, 1000 * 2 ** (failures - 1)));
      this.retryWaiters.add(done);
    });
  }

  /** Sends every waiting save again now (the connection came back). */
  retrySavesNow(): void {
    [...this.retryWaiters].forEach((retry) => retry());
  }

  /**
   * The host refused a save of `b` because its label moved (another save landed first). Keeps
   * the refused edit, stops the loop (nothing more is sent on the stale base) and reloads the
   * host's latest label into the editor, so the next edit builds on what the host has.
   *
   * Unless the label it moved to is exactly the one sent (`attempt`): then it moved by this very
   * save, whose answer was lost on the way (the server stopped after it committed). Nothing was
   * refused; returns true and the save loop goes on with any later edit.
   */
  private async resolveConflict(
    b: Bundle,
    reason: string,
    attempt: { version: number; saved: Uint8Array },
  ): Promise<boolean> {
    const imageId = b.detail.id;
    const rejected: RejectedEdit = {
      mine: b.label.data.slice(),
      base: b.baseLabel,
      reloaded: false,
      latestRevisionId: null,
    };
    b.savedVersion = b.editVersion;
    this.host.forgetPreloaded(imageId);
    try {
      const detail = await api['images.get']({ id: imageId });
      const latest = await loadLabel(detail);
      const latestLabel = latest ? binarize(latest) : new Uint8Array(b.label.data.length);
      if (sameBytes(latestLabel, attempt.saved)) {
        b.savedVersion = attempt.version;
        b.baseRevisionId = detail.labelRevisionId;
        b.baseLabel = attempt.saved;
        b.detail = detail;
        useReviewStore.getState().patchItem(imageId, listFigures(detail));
        if (this.host.isShown(b)) useReviewStore.getState().set({ detail });
        return true;
      }
      rejected.latestRevisionId = detail.labelRevisionId;
      rejected.reloaded = true;
      this.rejectedEdits.set(imageId, rejected);
      const store = useReviewStore.getState();
      store.patchItem(imageId, listFigures(detail));
      if (!this.host.isShown(b)) return false; // the next select() of this image shows the offer
      // Edits made while the reload was on its way are part of `mine` too, but not in the label.
      if (b.editVersion > b.savedVersion) {
        rejected.mine = b.label.data.slice();
        b.savedVersion = b.editVersion;
      }
      b.label.data.set(latestLabel);
      b.baseRevisionId = detail.labelRevisionId;
      b.baseLabel = b.label.data.slice();
      b.detail = detail;
      store.set({
        detail,
        saveStatus: 'conflict',
        saveError: reason,
        conflict: this.conflictOf(imageId),
      });
      this.host.repaintLabel();
    } catch (error) {
      // The reload failed: the editor keeps the user's pixels; the next save meets the conflict.
      this.rejectedEdits.set(imageId, rejected);
      if (this.host.isShown(b)) {
        useReviewStore.getState().set({
          saveStatus: 'error',
          saveError: `${reason}; the latest label could not be loaded: ${message(error)}`,
          conflict: this.conflictOf(imageId),
        });
      }
    }
    return false;
  }

  conflictOf(imageId: number): SaveConflict | null {
    const rejected = this.rejectedEdits.get(imageId);
    return rejected
      ? {
          imageId,
          reloaded: rejected.reloaded,
          latestRevisionId: rejected.latestRevisionId,
          changedPixels: changedCount(rejected),
        }
      : null;
  }
}
