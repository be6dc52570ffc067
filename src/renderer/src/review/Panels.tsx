/** Side panels of the review screen: tools, layers, live figures, review state and comment. */
import { useCallback, useEffect, useState } from 'react';
import { labelSourceOf, type ImageDetail, type MaskLayer } from '../../../shared/contract-review';
import { errorMessage, notify } from '../common/notices';
import { readOnlyMessage } from '../common/read-only';
import { ActionButton, ActionCheckbox } from '../editor/ActionButton';
import { formatChord } from '../editor/chords';
import { ACTIONS, ACTION_GROUPS, predictionUnavailable } from '../editor/registry';
import { WINDOW_PRESETS, dicomWindow, presetWindow, windowReadout } from '../viewer/window-level';
import { DicomFacts, lesionAreaMm2 } from './dicom-info';
import { NegativeAsk } from './NegativeAsk';
import { review } from './controller';
import { REVIEW_STATES, useReviewStore, type LayerId } from './review-store';
import { plural } from '../../../shared/plural';

const LAYER_LABELS: Record<LayerId, string> = {
  image: 'Image',
  'ground-truth': 'Ground truth',
  prediction: 'Prediction',
  label: 'Label',
};
const LAYER_IDS = Object.keys(LAYER_LABELS) as LayerId[];

/**
 * A layer's name as shown. The label layer names the mask in force, the same one the host's
 * `images.metrics` uses for 'label': the correction, else the ground truth.
 */
export function layerName(id: LayerId, detail: ImageDetail | null): string {
  if (id !== 'label' || !detail) return LAYER_LABELS[id];
  const source = labelSourceOf(detail);
  return source === 'correction'
    ? 'Label (correction)'
    : source === 'ground-truth'
      ? 'Label (ground truth)'
      : 'Label (none yet)';
}

const TOOL_ACTIONS = ACTIONS.filter((action) => action.tool);
const LABEL_OPERATIONS = [
  'edit.undo',
  'edit.redo',
  'edit.thresholdInto',
  'edit.acceptPrediction',
  'edit.fillHoles',
  'edit.removeIslands',
  'edit.dilate',
  'edit.erode',
  'edit.clear',
];

export function ToolsPanel() {
  const brushRadius = useReviewStore((s) => s.brushRadius);
  const islandMinPixels = useReviewStore((s) => s.islandMinPixels);
  const set = useReviewStore((s) => s.set);
  return (
    <section className="panel" data-testid="tools-panel">
      <h3>Tools</h3>
      <div className="button-grid" role="radiogroup" aria-label="Tool">
        {TOOL_ACTIONS.map((action) => (
          <ActionButton key={action.id} id={action.id} role="radio" />
        ))}
      </div>
      <label className="slider">
        Brush {brushRadius}px
        <input
          type="range"
          min={1}
          max={100}
          value={brushRadius}
          data-testid="brush-size"
          onChange={(event) => set({ brushRadius: Number(event.target.value) })}
        />
      </label>
      <div className="button-grid">
        {LABEL_OPERATIONS.map((id) => (
          <ActionButton key={id} id={id} />
        ))}
      </div>
      <label className="slider">
        Islands under {islandMinPixels}px
        <input
          type="number"
          min={1}
          max={100000}
          value={islandMinPixels}
          data-testid="island-min-pixels"
          onChange={(event) =>
            set({ islandMinPixels: Math.min(100_000, Math.max(1, Number(event.target.value))) })
          }
        />
      </label>
    </section>
  );
}

const VISIBILITY_ACTIONS: Record<MaskLayer, string> = {
  'ground-truth': 'layer.groundTruth',
  prediction: 'layer.prediction',
  label: 'layer.label',
};

export function LayersPanel() {
  const layers = useReviewStore((s) => s.layers);
  const threshold = useReviewStore((s) => s.threshold);
  const window = useReviewStore((s) => s.window);
  const maxValue = useReviewStore((s) => s.maxValue);
  const dicomDisplay = useReviewStore((s) => s.dicomDisplay);
  const detail = useReviewStore((s) => s.detail);
  const selectedLayer = useReviewStore((s) => s.selectedLayer);
  const setLayer = useReviewStore((s) => s.setLayer);
  const set = useReviewStore((s) => s.set);
  const noPrediction = predictionUnavailable(detail);
  const exists: Record<LayerId, boolean> = {
    image: true,
    'ground-truth': detail?.groundTruthRevisionId != null,
    prediction: detail?.predictionRevisionId != null,
    label: true,
  };
  return (
    <section className="panel" data-testid="layers-panel">
      <h3>Layers</h3>
      <div className="layer-row layer-head muted small" aria-hidden="true">
        <span />
        <span>opacity</span>
        <span className="outline-toggle" title="● selected layer (O outlines it) · ◯ outline">
          ● ◯
        </span>
      </div>
      {LAYER_IDS.map((id) => {
        const name = <span data-testid={`layer-name-${id}`}>{layerName(id, detail)}</span>;
        return (
          <div
            key={id}
            className={`layer-row layer-${id}${exists[id] ? '' : ' muted'}${id === selectedLayer ? ' selected' : ''}`}
          >
            {id === 'image' ? (
              <label>
                <input
                  type="checkbox"
                  checked={layers.image.visible}
                  data-testid="layer-visible-image"
                  onChange={(event) => setLayer('image', { visible: event.target.checked })}
                />
                <span className="swatch" />
                {name}
              </label>
            ) : (
              <ActionCheckbox id={VISIBILITY_ACTIONS[id]}>
                <span className="swatch" />
                {name}
              </ActionCheckbox>
            )}
            <input
              type="range"
              min={0}
              max={1}
              step={0.05}
              value={layers[id].opacity}
              aria-label={`${layerName(id, detail)} opacity`}
              data-testid={`layer-opacity-${id}`}
              onChange={(event) => setLayer(id, { opacity: Number(event.target.value) })}
            />
            {id === 'image' ? (
              <span className="outline-toggle" />
            ) : (
              <span className="outline-toggle">
                <input
                  type="radio"
                  name="selected-layer"
                  checked={id === selectedLayer}
                  aria-label={`Select ${layerName(id, detail)} (O outlines it)`}
                  title={`Select this layer: ${formatChord('o')} outlines or fills it`}
                  data-testid={`layer-select-${id}`}
                  onChange={() => set({ selectedLayer: id })}
                />
                <input
                  type="checkbox"
                  checked={layers[id].outline}
                  aria-label={`Outline ${layerName(id, detail)} instead of filling it`}
                  title="Outline instead of fill"
                  data-testid={`layer-outline-${id}`}
                  onChange={(event) => {
                    setLayer(id, { outline: event.target.checked });
                    review.renderLayer(id);
                    review.onDraw?.();
                  }}
                />
              </span>
            )}
          </div>
        );
      })}
      <label className="slider" title={noPrediction ?? 'Probability cut of the prediction'}>
        Threshold {threshold.toFixed(2)}
        <input
          type="range"
          min={0.01}
          max={0.99}
          step={0.01}
          value={threshold}
          data-testid="threshold"
          disabled={noPrediction !== null}
          title={noPrediction ?? undefined}
          onChange={(event) => review.setThreshold(Number(event.target.value))}
        />
      </label>
      <div className="window-row">
        <select
          data-testid="window-preset"
          value=""
          onChange={(event) => {
            const value = event.target.value;
            const fromFile = /^dicom-(\d+)$/.exec(value);
            const preset = WINDOW_PRESETS.find((p) => p.id === value);
            if (fromFile && dicomDisplay) {
              set({ window: dicomWindow(dicomDisplay, dicomDisplay.presets[Number(fromFile[1])]) });
            } else if (preset) {
              set({ window: presetWindow(preset, maxValue, window?.invert ?? false) });
            } else return;
            review.renderImage();
            review.onDraw?.();
          }}
        >
          <option value="">Window preset…</option>
          {dicomDisplay?.presets.map((preset, index) => (
            <option key={`dicom-${index}`} value={`dicom-${index}`}>
              {preset.name} (DICOM)
            </option>
          ))}
          {WINDOW_PRESETS.map((preset) => (
            <option key={preset.id} value={preset.id}>
              {preset.label}
            </option>
          ))}
        </select>
        <ActionCheckbox id="view.invert" />
      </div>
      {window && (
        <div className="muted small" data-testid="window-values">
          {windowReadout(window, dicomDisplay)} (right-drag)
        </div>
      )}
    </section>
  );
}

const PAIR_LAYERS: MaskLayer[] = ['ground-truth', 'prediction', 'label'];

export function FiguresPanel() {
  const figures = useReviewStore((s) => s.figures);
  const detail = useReviewStore((s) => s.detail);
  const diff = useReviewStore((s) => s.diff);
  const set = useReviewStore((s) => s.set);
  const setPair = (patch: Partial<typeof diff>) => {
    set({ diff: { ...diff, ...patch, chosen: true } });
    review.renderDiff();
    review.updateFigures();
    review.onDraw?.();
  };
  const pair = figures?.pair;
  const spacing = detail?.dicom?.pixelSpacing ?? null;
  return (
    <section className="panel" data-testid="figures-panel">
      {detail?.dicom && <DicomFacts dicom={detail.dicom} />}
      <h3>Figures</h3>
      <ActionCheckbox id="view.diff" />
      <div className="pair-row">
        <select
          value={diff.candidate}
          data-testid="diff-candidate"
          onChange={(event) => setPair({ candidate: event.target.value as MaskLayer })}
        >
          {PAIR_LAYERS.map((l) => (
            <option key={l} value={l}>
              {layerName(l, detail)}
            </option>
          ))}
        </select>
        <span className="muted">vs</span>
        <select
          value={diff.reference}
          data-testid="diff-reference"
          onChange={(event) => setPair({ reference: event.target.value as MaskLayer })}
        >
          {PAIR_LAYERS.map((l) => (
            <option key={l} value={l}>
              {layerName(l, detail)}
            </option>
          ))}
        </select>
      </div>
      {pair ? (
        <dl className="figures">
          <dt>Dice</dt>
          <dd data-testid="figure-dice">{pair.dice.toFixed(4)}</dd>
          <dt>IoU</dt>
          <dd data-testid="figure-iou">{pair.iou.toFixed(4)}</dd>
          <dt className="diff-tp">TP</dt>
          <dd data-testid="diff-tp">{pair.tp}</dd>
          <dt className="diff-fp">FP</dt>
          <dd data-testid="diff-fp">{pair.fp}</dd>
          <dt className="diff-fn">FN</dt>
          <dd data-testid="diff-fn">{pair.fn}</dd>
        </dl>
      ) : (
        <p className="muted small">Pick two layers that exist for this image.</p>
      )}
      <dl className="figures">
        {PAIR_LAYERS.map((l) => {
          const f = figures?.layers[l];
          return f ? (
            <div key={l} className="figure-line" data-testid={`layer-figures-${l}`}>
              <dt>{layerName(l, detail)}</dt>
              <dd>
                {f.areaPercent.toFixed(2)}% · {f.components} comp.
                {spacing && detail && (
                  <span data-testid={`layer-area-mm2-${l}`}>
                    {' · '}
                    {lesionAreaMm2(f.areaPercent, detail.width, detail.height, spacing)} mm²
                  </span>
                )}
              </dd>
            </div>
          ) : null;
        })}
      </dl>
    </section>
  );
}

export function ReviewPanel() {
  const detail = useReviewStore((s) => s.detail);
  const saveStatus = useReviewStore((s) => s.saveStatus);
  const saveError = useReviewStore((s) => s.saveError);
  const conflict = useReviewStore((s) => s.conflict);
  const readOnly = useReviewStore((s) => s.readOnly);
  const selectedId = useReviewStore((s) => s.selectedId);
  const [comment, setComment] = useState(detail?.comment ?? '');
  const [commentError, setCommentError] = useState<string | null>(null);
  const detailId = detail?.id;
  const savedComment = detail?.comment ?? '';

  useEffect(() => {
    setComment(savedComment);
    setCommentError(null);
  }, [detailId, savedComment]);

  // A comment the host did not take stays in the box, marked, until a later save gets through.
  // Bound to the image it was typed for, even if another is selected before it is sent.
  const saveComment = useCallback((text: string, imageId: number) => {
    review.setReview({ comment: text }, imageId).then(
      () => setCommentError(null),
      (error: unknown) => {
        setCommentError(errorMessage(error));
        notify(`Comment not saved: ${errorMessage(error)}`, { key: 'comment' });
      },
    );
  }, []);

  // Comments save like strokes: shortly after typing stops, no button.
  useEffect(() => {
    if (detailId === undefined || comment === savedComment) return;
    const timer = setTimeout(() => saveComment(comment, detailId), 400);
    return () => clearTimeout(timer);
  }, [comment, savedComment, detailId, saveComment]);

  if (!detail) return null;
  return (
    <section className="panel" data-testid="review-panel">
      <h3>
        Review{' '}
        <span
          className={`save-status ${saveStatus}`}
          data-testid="save-status"
          title={saveError ?? ''}
        >
          {saveStatus === 'saving'
            ? 'saving…'
            : saveStatus === 'saved'
              ? 'saved'
              : saveStatus === 'error'
                ? 'save failed'
                : saveStatus === 'conflict'
                  ? 'not saved: newer label loaded'
                  : saveStatus === 'retrying'
                    ? 'not saved yet: kept, retrying…'
                    : saveStatus === 'read-only'
                      ? 'not saved: read-only'
                      : ''}
        </span>
      </h3>
      {conflict && conflict.imageId === detail.id && (
        <div className="save-conflict" role="alert" data-testid="save-conflict">
          <p>
            Another save changed this label before yours arrived, so your edit was not saved.{' '}
            {conflict.reloaded
              ? `The editor now shows the latest label${
                  conflict.latestRevisionId !== null
                    ? ` (revision ${conflict.latestRevisionId})`
                    : ''
                }.`
              : 'The latest label could not be loaded; reopen the image to retry.'}{' '}
            Your edit ({plural(conflict.changedPixels, 'pixel')} changed) is kept: re-apply it on
            top, or discard it.
          </p>
          <div className="button-grid">
            <ActionButton id="edit.reapplyRejected" />
            <ActionButton id="edit.discardRejected" />
          </div>
        </div>
      )}
      <NegativeAsk imageId={detail.id} />
      <div className="button-grid" role="radiogroup" aria-label="Review state">
        {REVIEW_STATES.map((state) => (
          <ActionButton
            key={state}
            id={`review.${state}`}
            role="radio"
            className={`state-${state}`}
          />
        ))}
      </div>
      <textarea
        data-testid="review-comment"
        placeholder={readOnly ? 'No comment' : 'Comment…'}
        value={comment}
        rows={3}
        // While another image loads, this is still the previous image's comment: not editable.
        readOnly={readOnly !== null || detail.id !== selectedId}
        title={readOnly ? readOnlyMessage(readOnly) : undefined}
        onChange={(event) => setComment(event.target.value)}
        onBlur={() => {
          if (comment !== savedComment && detailId !== undefined) saveComment(comment, detailId);
        }}
      />
      <div
        className="muted small error-text"
        data-testid="comment-status"
        title={commentError ?? ''}
      >
        {commentError ? 'comment not saved (it is saved when you leave the box again)' : ''}
      </div>
      <div className="muted small" data-testid="image-info">
        {detail.name} · {detail.width}×{detail.height} · {detail.bitDepth}-bit · {detail.split}
      </div>
    </section>
  );
}

/**
 * True while `element` has content below its visible part: a sheet cut at the window's edge says
 * that it scrolls, so a group cut off is not taken for the end.
 */
function useMoreBelow(element: HTMLElement | null): [boolean, () => void] {
  const [moreBelow, setMoreBelow] = useState(false);
  const measure = useCallback(() => {
    if (!element) return;
    setMoreBelow(element.scrollTop + element.clientHeight < element.scrollHeight - 4);
  }, [element]);
  useEffect(() => {
    if (!element) return;
    measure();
    // A window resize changes what fits; without ResizeObserver (jsdom) scrolling still measures.
    if (typeof ResizeObserver === 'undefined') return;
    const observer = new ResizeObserver(measure);
    observer.observe(element);
    return () => observer.disconnect();
  }, [element, measure]);
  return [moreBelow, measure];
}

/** The `?` sheet: every registered action, with its keys, or "button" when it has none. */
export function HelpOverlay() {
  const open = useReviewStore((s) => s.helpOpen);
  const set = useReviewStore((s) => s.set);
  const [card, setCard] = useState<HTMLDivElement | null>(null);
  const [moreBelow, measure] = useMoreBelow(card);
  if (!open) return null;
  return (
    <div
      className="help-overlay"
      data-testid="help-overlay"
      onClick={() => set({ helpOpen: false })}
    >
      <div
        ref={setCard}
        className="help-card"
        data-testid="help-card"
        onScroll={measure}
        onClick={(event) => event.stopPropagation()}
      >
        <h2>Keyboard shortcuts and actions</h2>
        <div className="help-groups">
          {ACTION_GROUPS.map((group) => (
            <section key={group}>
              <h3>{group === 'Adjudication' ? 'Adjudication (keys in its panel)' : group}</h3>
              <dl>
                {ACTIONS.filter((action) => action.group === group).map((action) => (
                  <div key={action.id} className="figure-line" data-testid={`help-${action.id}`}>
                    <dt>
                      {action.keys.length > 0 ? (
                        action.keys.map((k) => <kbd key={k}>{formatChord(k)}</kbd>)
                      ) : (
                        <span className="muted">button</span>
                      )}
                    </dt>
                    <dd>
                      {action.description}
                      {action.editsLabel && !action.tool ? (
                        <span className="muted" title="Saved as a revision; undoable">
                          {' '}
                          ↶
                        </span>
                      ) : null}
                    </dd>
                  </div>
                ))}
              </dl>
            </section>
          ))}
        </div>
        <p className="muted small">
          ↶ changes the label: saved at once, undoable. Pan: space-drag or middle button ·
          Window/level: right-drag · Zoom: wheel
        </p>
        {moreBelow && (
          <div className="help-scroll-hint" data-testid="help-scroll-hint" aria-hidden="true">
            More below: scroll ↓
          </div>
        )}
      </div>
    </div>
  );
}
