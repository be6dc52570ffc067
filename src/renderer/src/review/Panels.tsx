/** Side panels of the review screen: tools, layers, live figures, review state and comment. */
import { useEffect, useState } from 'react';
import { labelSourceOf, type ImageDetail, type MaskLayer } from '../../../shared/contract-review';
import { KEYMAP, formatChord, keysOf, type ActionId } from '../keymap';
import { WINDOW_PRESETS, presetWindow } from '../viewer/window-level';
import { runAction } from './actions';
import { NegativeAsk } from './NegativeAsk';
import { review } from './controller';
import { REVIEW_STATES, useReviewStore, type LayerId, type Tool } from './review-store';

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

function hint(action: ActionId): string {
  const keys = keysOf(action);
  return keys.length > 0 ? ` (${formatChord(keys[0])})` : '';
}

function ActionButton({
  action,
  label,
  testId,
}: {
  action: ActionId;
  label: string;
  testId: string;
}) {
  const description = KEYMAP.find((s) => s.action === action)?.description ?? label;
  return (
    <button
      type="button"
      data-testid={testId}
      title={description + hint(action)}
      onClick={() => runAction(action)}
    >
      {label}
    </button>
  );
}

const TOOL_BUTTONS: { tool: Tool; action: ActionId; label: string }[] = [
  { tool: 'brush', action: 'tool.brush', label: 'Brush' },
  { tool: 'eraser', action: 'tool.eraser', label: 'Eraser' },
  { tool: 'polygonAdd', action: 'tool.polygonAdd', label: 'Poly +' },
  { tool: 'polygonCut', action: 'tool.polygonCut', label: 'Poly −' },
  { tool: 'fill', action: 'tool.fill', label: 'Fill' },
  { tool: 'keepComponent', action: 'tool.keepComponent', label: 'Keep' },
  { tool: 'dropComponent', action: 'tool.dropComponent', label: 'Drop' },
  { tool: 'pan', action: 'tool.pan', label: 'Pan' },
];

export function ToolsPanel() {
  const tool = useReviewStore((s) => s.tool);
  const brushRadius = useReviewStore((s) => s.brushRadius);
  const islandMinPixels = useReviewStore((s) => s.islandMinPixels);
  const detail = useReviewStore((s) => s.detail);
  const set = useReviewStore((s) => s.set);
  return (
    <section className="panel" data-testid="tools-panel">
      <h3>Tools</h3>
      <div className="button-grid">
        {TOOL_BUTTONS.map((b) => (
          <button
            key={b.tool}
            type="button"
            className={tool === b.tool ? 'active' : ''}
            data-testid={`tool-${b.tool}`}
            title={b.label + hint(b.action)}
            onClick={() => set({ tool: b.tool })}
          >
            {b.label}
          </button>
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
        <button
          type="button"
          data-testid="undo"
          disabled={!detail?.canUndo}
          title={'Undo' + hint('edit.undo')}
          onClick={() => runAction('edit.undo')}
        >
          Undo
        </button>
        <button
          type="button"
          data-testid="redo"
          disabled={!detail?.canRedo}
          title={'Redo' + hint('edit.redo')}
          onClick={() => runAction('edit.redo')}
        >
          Redo
        </button>
        <ActionButton action="edit.thresholdInto" label="Add pred." testId="op-threshold-into" />
        <ActionButton action="edit.acceptPrediction" label="Accept pred." testId="op-accept" />
        <ActionButton action="edit.fillHoles" label="Fill holes" testId="op-fill-holes" />
        <ActionButton action="edit.removeIslands" label="Rm islands" testId="op-remove-islands" />
        <ActionButton action="edit.dilate" label="Dilate" testId="op-dilate" />
        <ActionButton action="edit.erode" label="Erode" testId="op-erode" />
        <ActionButton action="edit.clear" label="Clear" testId="op-clear" />
      </div>
      <label className="slider">
        Islands under {islandMinPixels}px
        <input
          type="number"
          min={1}
          max={100000}
          value={islandMinPixels}
          onChange={(event) => set({ islandMinPixels: Math.max(1, Number(event.target.value)) })}
        />
      </label>
    </section>
  );
}

export function LayersPanel() {
  const layers = useReviewStore((s) => s.layers);
  const threshold = useReviewStore((s) => s.threshold);
  const window = useReviewStore((s) => s.window);
  const maxValue = useReviewStore((s) => s.maxValue);
  const detail = useReviewStore((s) => s.detail);
  const setLayer = useReviewStore((s) => s.setLayer);
  const set = useReviewStore((s) => s.set);
  const exists: Record<LayerId, boolean> = {
    image: true,
    'ground-truth': detail?.groundTruthRevisionId != null,
    prediction: detail?.predictionRevisionId != null,
    label: true,
  };
  return (
    <section className="panel" data-testid="layers-panel">
      <h3>Layers</h3>
      {LAYER_IDS.map((id) => (
        <div key={id} className={`layer-row layer-${id}${exists[id] ? '' : ' muted'}`}>
          <label>
            <input
              type="checkbox"
              checked={layers[id].visible}
              data-testid={`layer-visible-${id}`}
              onChange={(event) => setLayer(id, { visible: event.target.checked })}
            />
            <span className="swatch" />
            <span data-testid={`layer-name-${id}`}>{layerName(id, detail)}</span>
          </label>
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
            <label
              className="outline-toggle"
              title={'Outline instead of fill' + hint('view.outline')}
            >
              <input
                type="checkbox"
                checked={layers[id].outline}
                data-testid={`layer-outline-${id}`}
                onChange={(event) => {
                  setLayer(id, { outline: event.target.checked });
                  review.renderLayer(id);
                  review.onDraw?.();
                }}
              />
              ◯
            </label>
          )}
        </div>
      ))}
      <label className="slider">
        Threshold {threshold.toFixed(2)}
        <input
          type="range"
          min={0.01}
          max={0.99}
          step={0.01}
          value={threshold}
          data-testid="threshold"
          onChange={(event) => review.setThreshold(Number(event.target.value))}
        />
      </label>
      <div className="window-row">
        <select
          data-testid="window-preset"
          value=""
          onChange={(event) => {
            const preset = WINDOW_PRESETS.find((p) => p.id === event.target.value);
            if (!preset) return;
            set({ window: presetWindow(preset, maxValue, window?.invert ?? false) });
            review.renderImage();
            review.onDraw?.();
          }}
        >
          <option value="">Window preset…</option>
          {WINDOW_PRESETS.map((preset) => (
            <option key={preset.id} value={preset.id}>
              {preset.label}
            </option>
          ))}
        </select>
        <label>
          <input
            type="checkbox"
            checked={window?.invert ?? false}
            data-testid="invert"
            onChange={() => runAction('view.invert')}
          />
          Invert
        </label>
      </div>
      {window && (
        <div className="muted small" data-testid="window-values">
          W {Math.round(window.width)} / L {Math.round(window.center)} (right-drag)
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
  return (
    <section className="panel" data-testid="figures-panel">
      <h3>Figures</h3>
      <label>
        <input
          type="checkbox"
          checked={diff.enabled}
          data-testid="diff-mode"
          onChange={() => runAction('view.diff')}
        />
        Diff mode
      </label>
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
  const [comment, setComment] = useState(detail?.comment ?? '');
  const detailId = detail?.id;
  const savedComment = detail?.comment ?? '';

  useEffect(() => {
    setComment(savedComment);
  }, [detailId, savedComment]);

  // Comments save like strokes: shortly after typing stops, no button.
  useEffect(() => {
    if (detailId === undefined || comment === savedComment) return;
    const timer = setTimeout(() => void review.setReview({ comment }), 400);
    return () => clearTimeout(timer);
  }, [comment, savedComment, detailId]);

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
            Your edit ({conflict.changedPixels} pixels changed) is kept: re-apply it on top, or
            discard it.
          </p>
          <div className="button-grid">
            <button
              type="button"
              data-testid="conflict-reapply"
              onClick={() => review.reapplyRejectedEdit()}
            >
              Re-apply my edit
            </button>
            <button
              type="button"
              data-testid="conflict-discard"
              onClick={() => review.discardRejectedEdit()}
            >
              Discard my edit
            </button>
          </div>
        </div>
      )}
      <NegativeAsk imageId={detail.id} />
      <div className="button-grid" role="radiogroup" aria-label="Review state">
        {REVIEW_STATES.map((state) => (
          <button
            key={state}
            type="button"
            role="radio"
            aria-checked={detail.reviewState === state}
            className={`state-${state}${detail.reviewState === state ? ' active' : ''}`}
            data-testid={`review-state-${state}`}
            title={state + hint(`review.${state}` as ActionId)}
            onClick={() => void review.setReview({ state })}
          >
            {state}
          </button>
        ))}
      </div>
      <textarea
        data-testid="review-comment"
        placeholder="Comment…"
        value={comment}
        rows={3}
        onChange={(event) => setComment(event.target.value)}
        onBlur={() => {
          if (comment !== savedComment) void review.setReview({ comment });
        }}
      />
      <div className="muted small" data-testid="image-info">
        {detail.name} · {detail.width}×{detail.height} · {detail.bitDepth}-bit · {detail.split}
      </div>
    </section>
  );
}

export function HelpOverlay() {
  const open = useReviewStore((s) => s.helpOpen);
  const set = useReviewStore((s) => s.set);
  if (!open) return null;
  const groups = [...new Set(KEYMAP.map((s) => s.group))];
  return (
    <div
      className="help-overlay"
      data-testid="help-overlay"
      onClick={() => set({ helpOpen: false })}
    >
      <div className="help-card" onClick={(event) => event.stopPropagation()}>
        <h2>Keyboard shortcuts</h2>
        <div className="help-groups">
          {groups.map((group) => (
            <section key={group}>
              <h3>{group}</h3>
              <dl>
                {KEYMAP.filter((s) => s.group === group).map((s) => (
                  <div key={s.action} className="figure-line">
                    <dt>
                      {s.keys.map((k) => (
                        <kbd key={k}>{formatChord(k)}</kbd>
                      ))}
                    </dt>
                    <dd>{s.description}</dd>
                  </div>
                ))}
              </dl>
            </section>
          ))}
        </div>
        <p className="muted small">
          Pan: space-drag or middle button · Window/level: right-drag · Zoom: wheel
        </p>
      </div>
    </div>
  );
}
