/**
 * One disputed image: every reader's label in its own colour, the consensus outline and
 * probability map, "Take reader n" / "Start from consensus", a brush and eraser on the candidate,
 * and "Save as final" (the host writes the label in force as `adjudicated by NAME`). Its keys,
 * buttons and menu entries are the editor registry's adjudication actions: this view publishes
 * what they read (the review store's `adjudication.view`) and attaches what they do.
 */
import {
  useCallback,
  useEffect,
  useLayoutEffect,
  useRef,
  useState,
  type PointerEvent,
} from 'react';
import type { AdjudicationImage } from '../../../shared/adjudication-schemas';
import { api } from '../api';
import { encodeLabelPng, loadGrey } from '../review/media';
import { paintDisc, paintLayers, readerColour } from './adjudication-paint';
import { attachAdjudication, type AdjudicationViewSnapshot } from './adjudication-state';
import { ActionButton, ActionCheckbox } from '../editor/ActionButton';
import { useReviewStore } from '../review/review-store';

/** Publishes what the registry's adjudication actions read of the view on screen (null: none). */
export function publishAdjudicationView(view: AdjudicationViewSnapshot | null): void {
  const current = useReviewStore.getState().adjudication;
  if (!current) return; // the panel is closed
  useReviewStore.getState().set({ adjudication: { ...current, view } });
}

type Candidate =
  | { kind: 'reader'; revisionId: number; index: number }
  | { kind: 'consensus'; method: 'staple' | 'vote' };

const DISPLAY = 360;
const BRUSH_RADIUS = 3;

function errorText(e: unknown): string {
  return e instanceof Error ? e.message : String(e);
}

export function AdjudicationView({
  view,
  onDecided,
}: {
  view: AdjudicationImage;
  onDecided: (basis: string) => void;
}) {
  const canvas = useRef<HTMLCanvasElement>(null);
  const [image, setImage] = useState<Uint8Array | null>(null);
  const [masks, setMasks] = useState<Map<number, Uint8Array>>(new Map());
  const [probability, setProbability] = useState<Uint8Array | null>(null);
  const [shown, setShown] = useState<Set<number>>(new Set(view.readers.map((r) => r.index)));
  const [showOutline, setShowOutline] = useState(view.consensus.length > 0);
  const [showMap, setShowMap] = useState(false);
  const [candidate, setCandidate] = useState<Uint8Array | null>(null);
  const [basis, setBasis] = useState<Candidate | null>(null);
  const [edited, setEdited] = useState(false);
  const [tool, setTool] = useState<'brush' | 'eraser'>('brush');
  const [busy, setBusy] = useState(false);
  const [error, setError] = useState<string | null>(null);
  const drawing = useRef(false);
  const method = view.consensus[0] ?? null;
  const { width, height } = view;

  useEffect(() => {
    let stale = false;
    void (async () => {
      try {
        const [gray, ...readers] = await Promise.all([
          loadGrey(api.mediaUrl('image', view.imageId, { depth: 8 })),
          ...view.readers.map((r) => loadGrey(api.mediaUrl('reading', r.revisionId))),
        ]);
        const map = method
          ? await loadGrey(api.mediaUrl('consensus', view.imageId, { plan: view.planId, method }))
          : null;
        if (stale) return;
        setImage(gray.data);
        setMasks(new Map(view.readers.map((r, i) => [r.index, readers[i].data])));
        setProbability(map?.data ?? null);
      } catch (e) {
        if (!stale) setError(errorText(e));
      }
    })();
    return () => {
      stale = true;
    };
  }, [view, method]);

  useEffect(() => {
    const context = canvas.current?.getContext('2d');
    if (!context) return;
    const data = context.createImageData(width, height);
    paintLayers(
      {
        width,
        height,
        image,
        readers: [...shown].flatMap((index) => {
          const mask = masks.get(index);
          return mask ? [{ index, mask }] : [];
        }),
        probability: showMap ? probability : null,
        consensusOutline: showOutline ? probability : null,
        candidate,
      },
      data.data,
    );
    context.putImageData(data, 0, 0);
  }, [image, masks, shown, showMap, showOutline, probability, candidate, width, height]);

  const toggleReader = useCallback((index: number) => {
    setShown((current) => {
      const next = new Set(current);
      if (next.has(index)) next.delete(index);
      else next.add(index);
      return next;
    });
  }, []);

  const takeReader = (index: number) => {
    const reader = view.readers.find((r) => r.index === index);
    const mask = masks.get(index);
    if (!reader || !mask) return;
    setCandidate(mask.slice());
    setBasis({ kind: 'reader', revisionId: reader.revisionId, index });
    setEdited(false);
  };

  const startFromConsensus = () => {
    if (!probability || !method) return;
    setCandidate(probability.map((p) => (p >= 128 ? 255 : 0)));
    setBasis({ kind: 'consensus', method });
    setEdited(false);
  };

  const paintAt = (event: PointerEvent<HTMLCanvasElement>) => {
    const target = event.currentTarget.getBoundingClientRect();
    const x = ((event.clientX - target.left) / target.width) * width;
    const y = ((event.clientY - target.top) / target.height) * height;
    setCandidate((current) => {
      const next = current ? current.slice() : new Uint8Array(width * height);
      paintDisc(next, width, height, x, y, BRUSH_RADIUS, tool === 'brush' ? 255 : 0);
      return next;
    });
    setEdited(true);
  };

  const save = async () => {
    if (!candidate) return;
    setBusy(true);
    setError(null);
    try {
      const chosen =
        !edited && basis?.kind === 'reader'
          ? { kind: 'reader' as const, revisionId: basis.revisionId }
          : !edited && basis?.kind === 'consensus'
            ? basis
            : {
                kind: 'edited' as const,
                png: await encodeLabelPng(candidate, width, height),
              };
      const decision = await api['adjudication.decide']({
        planId: view.planId,
        imageId: view.imageId,
        basis: chosen,
      });
      onDecided(decision.basis);
    } catch (e) {
      setError(errorText(e));
    } finally {
      setBusy(false);
    }
  };

  // What the registry's actions read, and what they do, while this image is on screen; in layout
  // effects so that a key pressed as soon as the view shows finds them (see AdjudicationPanel).
  const readerIndices = view.readers.map((r) => r.index).join(',');
  useLayoutEffect(() => {
    publishAdjudicationView({
      readers: readerIndices ? readerIndices.split(',').map(Number) : [],
      shown: [...shown].sort((a, b) => a - b),
      loaded: masks.size > 0,
      hasConsensus: probability !== null && method !== null,
      showOutline,
      showMap,
      tool,
      hasCandidate: candidate !== null,
      busy,
    });
  }, [
    readerIndices,
    shown,
    masks,
    probability,
    method,
    showOutline,
    showMap,
    tool,
    candidate,
    busy,
  ]);
  useLayoutEffect(() => () => publishAdjudicationView(null), []);
  const operations = useRef({ takeReader, startFromConsensus, save });
  operations.current = { takeReader, startFromConsensus, save };
  useLayoutEffect(
    () =>
      attachAdjudication({
        toggleReader,
        takeReader: (index) => operations.current.takeReader(index),
        toggleOutline: () => setShowOutline((v) => !v),
        toggleMap: () => setShowMap((v) => !v),
        startFromConsensus: () => operations.current.startFromConsensus(),
        setTool,
        decide: () => operations.current.save(),
      }),
    [toggleReader],
  );

  const scale = Math.min(DISPLAY / width, DISPLAY / height);
  return (
    <div className="adjudication-view" tabIndex={0} data-testid="adj-view">
      <p>
        <strong data-testid="adj-image">{view.image}</strong> — plan {view.planName}
        {view.dispute && (
          <span data-testid="adj-dispute">
            {' '}
            · mean Dice {view.dispute.meanDice.toFixed(2)} (threshold {view.dispute.threshold})
            {view.dispute.split ? ' · negative/positive split' : ''}
          </span>
        )}
      </p>
      <ul className="adjudication-readers">
        {view.readers.map((reader) => (
          <li key={reader.index}>
            <ActionCheckbox id={`adjudication.reader${reader.index}`}>
              <span className="swatch" style={{ background: readerColour(reader.index) }} />
              {reader.index}.{' '}
              <span data-testid={`adj-reader-name-${reader.index}`}>{reader.name}</span>{' '}
              <span className="muted">({reader.area} px)</span>
            </ActionCheckbox>
            <ActionButton id={`adjudication.take${reader.index}`} />
          </li>
        ))}
      </ul>
      <div className="adjudication-tools">
        <ActionCheckbox id="adjudication.outline">Consensus outline (C)</ActionCheckbox>
        <ActionCheckbox id="adjudication.map">Probability map (P)</ActionCheckbox>
        <ActionButton id="adjudication.fromConsensus">
          Start from consensus{method ? ` (${method})` : ''}
        </ActionButton>
        <ActionButton id="adjudication.brush">Brush (B)</ActionButton>
        <ActionButton id="adjudication.eraser">Eraser (E)</ActionButton>
      </div>
      <canvas
        ref={canvas}
        data-testid="adj-canvas"
        width={width}
        height={height}
        style={{ width: width * scale, height: height * scale, imageRendering: 'pixelated' }}
        onPointerDown={(event) => {
          drawing.current = true;
          event.currentTarget.setPointerCapture(event.pointerId);
          paintAt(event);
        }}
        onPointerMove={(event) => drawing.current && paintAt(event)}
        onPointerUp={() => (drawing.current = false)}
      />
      <p className="adjudication-tools">
        <span data-testid="adj-candidate">
          {candidate
            ? `Final label: ${
                edited
                  ? 'edited'
                  : basis?.kind === 'reader'
                    ? `reader ${basis.index}`
                    : `consensus (${method})`
              }`
            : 'Take a reader or start from the consensus'}
        </span>
        <ActionButton id="adjudication.decide" />
      </p>
      {error && (
        <p role="alert" className="error">
          {error}
        </p>
      )}
    </div>
  );
}
