/**
 * The editing engine behind the viewer, outside React: holds the shown image's pixel buffers and
 * the offscreen canvases the Konva stage blits, and runs edits on them.
 *
 * Every edit is bound to the image the user sees: the bundle of the image selected in the worklist
 * once it is shown (./selection.ts). Selecting another image drops the bundle at once, so while an
 * image loads, or when it cannot be shown, no key, tool or button reaches any label. Loading is
 * ./open-image.ts; saving, with its conflicts and retries, is ./save-queue.ts (bound to each
 * image's id, whatever is shown when the host answers).
 */
import type { ImageDetail, MaskLayer, ReviewState } from '../../../shared/contract-review';
import { api } from '../api';
import { pairForImage } from './figures-pair';
import {
  EMPTY_RECT,
  binarize,
  createLabelMap,
  fillPolygon,
  foregroundCount,
  fullRect,
  paintSegment,
  thresholdProbability,
  unionRect,
  type DirtyRect,
  type LabelMap,
  type Point,
} from '../mask/label-map';
import { autoWindow, defaultWindow, dicomWindow } from '../viewer/window-level';
import { SaveQueue, listFigures, type Bundle } from './save-queue';
import {
  ImageOpenFailure,
  NeighbourPreloader,
  loadLabel,
  openImage,
  type OpenedImage,
} from './open-image';
import { describeFailure, selectedDetail } from './selection';
import { makeCanvas } from './overlay';
import { useReviewStore } from './review-store';
import { figuresOf, layerValuesOf, paintDiffOf, paintImage, paintLayer } from './paint';

export type CanvasId = 'image' | MaskLayer | 'diff';

function message(error: unknown): string {
  return error instanceof Error ? error.message : String(error);
}

class ReviewController {
  bundle: Bundle | null = null;
  readonly canvases: Partial<Record<CanvasId, HTMLCanvasElement>> = {};
  /** Set by the viewer: redraws the Konva layers after canvases changed. */
  onDraw: (() => void) | null = null;
  /**
   * Set by the viewer: redraws only the edit layer (correction and diff), which is all a brush
   * stroke changes; the image and the other overlays live on a layer that is not redrawn.
   */
  onDrawEdit: (() => void) | null = null;
  /** Set by the viewer: fits the image once a new image size arrives. */
  onImageLoaded: ((width: number, height: number) => void) | null = null;
  private readonly saves = new SaveQueue({
    isShown: (b) => this.bundle === b,
    repaintLabel: () => {
      this.renderLayer('label');
      this.renderDiff();
      this.updateFigures();
      this.onDraw?.();
    },
    forgetPreloaded: (imageId) => this.preloads.forget(imageId),
  });
  private readonly preloads = new NeighbourPreloader();
  private selectToken = 0;
  /** Undo, redo and review requests of this page on their way to the host. */
  private requestsInFlight = 0;
  private strokeLast: Point | null = null;
  /** The image a stroke in progress paints: the one shown when it began. */
  private strokeBundle: Bundle | null = null;
  private strokeValue: 0 | 1 = 1;
  private pendingRect: DirtyRect = EMPTY_RECT;
  private frameRequest = 0;
  private lastSelectMs = 0;

  get lastSwitchMs(): number {
    return this.lastSelectMs;
  }

  /**
   * Shows `imageId`, the image just selected in the worklist. From this moment until it is shown,
   * no action reaches any image (the previous image's bundle is gone); if it cannot be shown, the
   * viewer shows why in its place and only its review state and comment can be changed.
   */
  async select(imageId: number): Promise<void> {
    const token = ++this.selectToken;
    const started = performance.now();
    this.leaveShownImage();
    const store = useReviewStore.getState();
    store.set({ selectedId: imageId, loadingImage: true, imageFailure: null });
    try {
      await this.saves.settled(imageId);
      // A neighbour's detail fetched moments ago by the preloader opens the image at once; it is
      // checked against the host right after (see revalidate).
      const preloaded = this.preloads.take(imageId);
      const opened = await openImage(imageId, preloaded);
      if (token !== this.selectToken) return;
      this.show(opened, started);
      if (preloaded) void this.revalidate(token, imageId);
    } catch (error) {
      if (token === this.selectToken) this.showFailure(imageId, error);
    }
  }

  /**
   * The shown image is left (another is selected): its bundle goes, so nothing acts on it any
   * more. A stroke in progress finishes on it first; its saves go on in their own loop.
   */
  private leaveShownImage(): void {
    if (this.stroking) this.strokeEnd();
    this.bundle = null;
  }

  private show(opened: OpenedImage, started: number): void {
    const { detail, image, groundTruth, label, prediction, dicomDisplay, detailMs } = opened;
    const imageId = detail.id;
    const mediaMs = performance.now() - started - detailMs;
    const { width, height } = image;
    const threshold = useReviewStore.getState().threshold;
    const labelMap = createLabelMap(width, height, label ? binarize(label) : undefined);
    this.bundle = {
      detail,
      image,
      groundTruth: groundTruth && binarize(groundTruth),
      prediction,
      predictionBinary: prediction && thresholdProbability(prediction, threshold),
      label: labelMap,
      baseRevisionId: detail.labelRevisionId,
      baseLabel: labelMap.data.slice(),
      editVersion: 0,
      savedVersion: 0,
      saving: null,
    };
    const state = useReviewStore.getState();
    const sizeChanged =
      this.canvases.image?.width !== width || this.canvases.image?.height !== height;
    for (const id of ['image', 'ground-truth', 'prediction', 'label', 'diff'] as const) {
      if (sizeChanged || !this.canvases[id]) this.canvases[id] = makeCanvas(width, height);
    }
    // A refused edit of this image now sits beside the label just loaded from the host.
    this.saves.labelReloaded(imageId, detail.labelRevisionId);
    const diff = pairForImage(state.diff, Boolean(prediction));
    state.set({
      detail,
      loadingImage: false,
      imageFailure: null,
      maxValue: image.maxValue,
      // The window carries over between images of one depth; a change of depth starts afresh
      // (16-bit radiographs rarely use the full range, so they open on their percentiles).
      dicomDisplay,
      // A DICOM image opens on its own default VOI (its first preset).
      window: dicomDisplay
        ? dicomWindow(dicomDisplay, dicomDisplay.presets[0])
        : state.window && !state.window.voi && state.maxValue === image.maxValue
          ? state.window
          : image.maxValue > 255
            ? autoWindow(image.data, image.maxValue)
            : defaultWindow(image.maxValue),
      saveStatus: 'idle',
      saveError: null,
      conflict: this.saves.conflictOf(imageId),
      diff,
    });
    // Shown after all (the file was restored): the worklist's mark goes.
    const row = state.selectedIndex === null ? undefined : state.itemAt(state.selectedIndex);
    if (detail.mediaError || (row?.id === imageId && row.mediaError)) {
      state.patchItem(imageId, { mediaError: null });
    }
    this.renderAll();
    if (sizeChanged || !state.view.scale) this.onImageLoaded?.(width, height);
    this.lastSelectMs = performance.now() - started;
    // Read by bench/ui-review.ts: where a switch spends its time.
    document.body.dataset.lastSwitch = JSON.stringify({
      total: this.lastSelectMs,
      detail: detailMs,
      media: mediaMs,
      render: this.lastSelectMs - detailMs - mediaMs,
    });
    this.preloads.neighboursOf(useReviewStore.getState());
  }

  /**
   * The selected image cannot be shown: the viewer says why in its place, the previous image's
   * pixels are wiped from the canvases, and the worklist marks the row.
   */
  private showFailure(imageId: number, error: unknown): void {
    const detail = error instanceof ImageOpenFailure ? error.detail : null;
    const failure = describeFailure(imageId, detail, message(error));
    for (const canvas of Object.values(this.canvases)) {
      canvas?.getContext('2d')?.clearRect(0, 0, canvas.width, canvas.height);
    }
    const store = useReviewStore.getState();
    store.set({
      detail,
      loadingImage: false,
      imageFailure: failure,
      figures: null,
      saveStatus: 'idle',
      saveError: null,
      conflict: null,
      polygon: [],
    });
    if (detail) store.patchItem(imageId, { mediaError: failure.reason });
    this.onDraw?.();
  }

  /** The bundle of the image the user sees, or null while none is shown (loading, failed). */
  private shownBundle(): Bundle | null {
    const b = this.bundle;
    const { selectedId, loadingImage, imageFailure } = useReviewStore.getState();
    if (!b || b.detail.id !== selectedId || loadingImage || imageFailure) return null;
    return b;
  }

  /**
   * The host says the open image changed (another window, a refresh import): show what it has
   * now. Skipped while a request of this page on the image is on its way (its answer brings the
   * new state itself).
   */
  async refreshOpen(reason?: string): Promise<void> {
    const { imageFailure, selectedId } = useReviewStore.getState();
    if (imageFailure && imageFailure.imageId === selectedId) {
      if (this.requestsInFlight > 0) return;
      // A refresh import may have repaired the file: try to show it again. Otherwise (flagged or
      // commented elsewhere) only its detail is new.
      if (reason === 'import') await this.select(imageFailure.imageId);
      else await this.refreshDetail(imageFailure.imageId).catch(() => undefined);
      return;
    }
    const b = this.bundle;
    if (!b || this.requestsInFlight > 0 || this.editing(b)) return;
    await this.revalidate(this.selectToken, b.detail.id);
  }

  /** A stroke in progress, or an edit of `b` not yet acknowledged by the host. */
  private editing(b: Bundle): boolean {
    return this.stroking || b.saving !== null || b.editVersion > b.savedVersion;
  }

  /**
   * Asks the host for the open image's current detail (after opening from a preloaded one, or
   * when told it changed). Same pixels and masks: only the detail is refreshed; else (changed
   * elsewhere meanwhile) the image reloads, unless an edit here is not yet acknowledged: its save
   * then meets the host's conflict check.
   */
  private async revalidate(token: number, imageId: number): Promise<void> {
    try {
      const current = await api['images.get']({ id: imageId });
      const b = this.bundle;
      if (token !== this.selectToken || !b || b.detail.id !== imageId) return;
      const same =
        current.sha256 === b.detail.sha256 &&
        current.labelRevisionId === b.detail.labelRevisionId &&
        current.groundTruthRevisionId === b.detail.groundTruthRevisionId &&
        current.predictionRevisionId === b.detail.predictionRevisionId;
      if (same || this.editing(b)) {
        if (!this.editing(b)) b.detail = current;
        useReviewStore.getState().set({ detail: b.detail });
      } else {
        await this.select(imageId);
      }
    } catch {
      // The next action on this image meets the error.
    }
  }

  /** Windowed grey image into its canvas. */
  renderImage(): void {
    if (this.bundle && this.canvases.image) paintImage(this.canvases.image, this.bundle);
  }

  layerValues(layer: MaskLayer): Uint8Array | null {
    return this.bundle && layerValuesOf(this.bundle, layer);
  }

  renderLayer(layer: MaskLayer, rect?: DirtyRect): void {
    const canvas = this.canvases[layer];
    if (canvas && this.bundle) paintLayer(canvas, this.bundle, layer, rect);
  }

  renderDiff(rect?: DirtyRect): void {
    if (this.canvases.diff && this.bundle) paintDiffOf(this.canvases.diff, this.bundle, rect);
  }

  renderAll(): void {
    this.renderImage();
    for (const layer of ['ground-truth', 'prediction', 'label'] as const) this.renderLayer(layer);
    this.renderDiff();
    this.updateFigures();
    this.onDraw?.();
  }

  setThreshold(threshold: number): void {
    useReviewStore.getState().set({ threshold });
    const b = this.bundle;
    if (b?.prediction) b.predictionBinary = thresholdProbability(b.prediction, threshold);
    this.renderLayer('prediction');
    this.renderDiff();
    this.updateFigures();
    this.onDraw?.();
  }

  updateFigures(): void {
    if (this.bundle) useReviewStore.getState().set({ figures: figuresOf(this.bundle) });
  }

  // Brush and eraser: paint segment by segment into the label, re-blit only the dirty rectangle.
  strokeBegin(point: Point, erase: boolean): void {
    const b = this.shownBundle();
    if (!b) return;
    this.strokeBundle = b;
    this.strokeValue = erase ? 0 : 1;
    this.strokeLast = point;
    this.strokeTo(point);
  }

  strokeTo(point: Point): void {
    const b = this.strokeBundle;
    if (!b || !this.strokeLast) return;
    const radius = useReviewStore.getState().brushRadius;
    const rect = paintSegment(b.label, this.strokeLast, point, radius, this.strokeValue);
    this.strokeLast = point;
    // Several pointer samples can arrive per frame: repaint their union once, at the frame.
    this.pendingRect = unionRect(this.pendingRect, rect);
    if (this.frameRequest === 0) {
      this.frameRequest = requestAnimationFrame(() => this.flushStrokeFrame());
    }
  }

  private flushStrokeFrame(): void {
    this.frameRequest = 0;
    const rect = this.pendingRect;
    this.pendingRect = EMPTY_RECT;
    if (!this.bundle || this.bundle !== this.strokeBundle || rect.x1 <= rect.x0) return;
    this.renderLayer('label', rect);
    if (useReviewStore.getState().diff.enabled) this.renderDiff(rect);
    this.onDrawEdit?.();
  }

  strokeEnd(): void {
    const b = this.strokeBundle;
    if (!this.strokeLast || !b) return;
    this.strokeLast = null;
    this.strokeBundle = null;
    if (this.frameRequest !== 0) {
      cancelAnimationFrame(this.frameRequest);
      this.frameRequest = 0;
    }
    const rect = this.pendingRect;
    this.pendingRect = EMPTY_RECT;
    this.finishEdit(b, rect.x1 > rect.x0 ? rect : null);
  }

  get stroking(): boolean {
    return this.strokeLast !== null;
  }

  polygon(points: readonly Point[], cut: boolean): void {
    const b = this.shownBundle();
    if (!b || points.length < 3) return;
    this.finishEdit(b, fillPolygon(b.label, points, cut ? 0 : 1));
  }

  /** Runs a label operation (fill, morphology, components, threshold...) as one edit. */
  apply(operation: (label: LabelMap, bundle: Bundle) => DirtyRect): void {
    const b = this.shownBundle();
    if (!b) return;
    const rect = operation(b.label, b);
    if (rect.x1 > rect.x0 && rect.y1 > rect.y0) this.finishEdit(b, rect);
  }

  /**
   * An edit of `b` ended: repaint (if it is still shown), refresh figures, and save
   * (debounce-free: at stroke end). The save is bound to `b`'s image whatever is shown next.
   */
  private finishEdit(b: Bundle, rect: DirtyRect | null): void {
    if (b === this.bundle) {
      if (rect) this.renderLayer('label', rect);
      this.renderDiff();
      this.updateFigures();
      this.onDraw?.();
    }
    b.editVersion++;
    this.saves.start(b);
  }

  /**
   * Re-applies a refused edit on top of the label now shown: every pixel the edit changed (against
   * the revision it started from) takes the edit's value; the rest keeps the newer save's work.
   * Saved like any edit, so it can be undone.
   */
  reapplyRejectedEdit(): void {
    const b = this.shownBundle();
    if (!b) return;
    const rejected = this.saves.takeRejected(b.detail.id, b.label.data.length);
    if (!rejected) return;
    useReviewStore.getState().set({ conflict: null });
    const { mine, base } = rejected;
    const label = b.label.data;
    for (let i = 0; i < label.length; i++) if (mine[i] !== base[i]) label[i] = mine[i];
    this.finishEdit(b, fullRect(b.label));
  }

  /** Drops a refused edit: the newer save stands. */
  discardRejectedEdit(): void {
    const imageId = useReviewStore.getState().conflict?.imageId;
    if (imageId === undefined) return;
    this.saves.discardRejected(imageId);
    const store = useReviewStore.getState();
    store.set({
      conflict: null,
      ...(store.saveStatus === 'conflict' ? { saveStatus: 'idle', saveError: null } : {}),
    });
  }

  /** True while some image still has an edit on its way to the host. */
  get savesPending(): boolean {
    return this.saves.pending;
  }

  /** Sends every waiting save again now (the connection came back). */
  retrySavesNow(): void {
    this.saves.retrySavesNow();
  }

  /** Waits until every edit of the open image is durable. */
  async flush(): Promise<void> {
    while (this.bundle?.saving) await this.bundle.saving;
  }

  async undo(redo = false): Promise<void> {
    const b = this.shownBundle();
    if (!b) return;
    await this.flush();
    if (b !== this.bundle) return;
    if (!(redo ? b.detail.canRedo : b.detail.canUndo)) return;
    useReviewStore.getState().set({ saveStatus: 'saving' });
    this.requestsInFlight++;
    try {
      const detail = await (redo
        ? api['masks.redo']({ imageId: b.detail.id })
        : api['masks.undo']({ imageId: b.detail.id }));
      const label = await loadLabel(detail);
      if (b !== this.bundle) return;
      b.label.data.set(label ? binarize(label) : new Uint8Array(b.label.data.length));
      b.baseRevisionId = detail.labelRevisionId;
      b.baseLabel = b.label.data.slice();
      b.detail = detail;
      const store = useReviewStore.getState();
      store.patchItem(b.detail.id, listFigures(detail));
      store.set({ detail, saveStatus: 'saved' });
      this.renderLayer('label');
      this.renderDiff();
      this.updateFigures();
      this.onDraw?.();
    } catch (error) {
      useReviewStore.getState().set({ saveStatus: 'error', saveError: message(error) });
    } finally {
      this.requestsInFlight--;
    }
  }

  /**
   * Sets the review state or comment of image `imageId` (by default the selected image, shown or
   * failed; nothing while it still loads). A request the host did not take rejects (the caller
   * says so) after the page is back on the host's own state of the image.
   */
  async setReview(
    patch: { state?: ReviewState; comment?: string },
    imageId = selectedDetail()?.id,
  ): Promise<void> {
    if (imageId === undefined) return;
    const b = this.bundle?.detail.id === imageId ? this.bundle : null;
    // Negative means no lesion: a label with one is cleared or kept first (./NegativeAsk.tsx).
    const pixels = patch.state === 'negative' && b ? foregroundCount(b.label.data) : 0;
    if (pixels > 0) {
      useReviewStore.getState().set({ negativeAsk: { imageId, pixels } });
      return;
    }
    if (b) await this.flush();
    let detail: ImageDetail;
    this.requestsInFlight++;
    try {
      detail = await api['review.set']({ imageId, ...patch });
    } catch (error) {
      // Unreachable host: what it had stays.
      await this.refreshDetail(imageId).catch(() => undefined);
      throw error;
    } finally {
      this.requestsInFlight--;
    }
    this.showDetail(detail);
  }

  /** Asks the host for the image's detail again and shows it (review state, comment, figures). */
  private async refreshDetail(imageId: number): Promise<void> {
    this.showDetail(await api['images.get']({ id: imageId }));
  }

  /** A new detail of an image from the host: into its bundle, its row, and the panels if shown. */
  private showDetail(detail: ImageDetail): void {
    this.preloads.forget(detail.id);
    const b = this.bundle?.detail.id === detail.id ? this.bundle : null;
    if (b) b.detail = detail;
    const store = useReviewStore.getState();
    store.patchItem(detail.id, listFigures(detail));
    if (store.detail?.id === detail.id && store.selectedId === detail.id) store.set({ detail });
  }
}

export const review = new ReviewController();
