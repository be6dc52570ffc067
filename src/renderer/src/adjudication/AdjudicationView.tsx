/**
 * One disputed image: every reader's label in its own colour (keys 1..9 toggle them), the
 * consensus outline (C) and probability map (P), "Take reader n" / "Start from consensus", a
 * brush (B) and eraser (E) on the candidate, and "Save as final" (the host writes the label in
 * force as `adjudicated by NAME`).
 */
import { useCallback, useEffect, useRef, useState, type PointerEvent } from 'react';
import type { AdjudicationImage } from '../../../shared/adjudication-schemas';
import { api } from '../api';
import { encodeLabelPng, loadGrey } from '../review/media';
import { paintDisc, paintLayers, readerColour } from './adjudication-paint';

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

  const onKeyDown = (event: React.KeyboardEvent) => {
    if (event.ctrlKey || event.metaKey || event.altKey) return;
    const digit = Number(event.key);
    if (Number.isInteger(digit) && digit >= 1 && digit <= 9) toggleReader(digit);
    else if (event.key === 'c') setShowOutline((v) => !v);
    else if (event.key === 'p') setShowMap((v) => !v);
    else if (event.key === 'b') setTool('brush');
    else if (event.key === 'e') setTool('eraser');
    else return;
    event.preventDefault();
  };

  const scale = Math.min(DISPLAY / width, DISPLAY / height);
  return (
    <div className="adjudication-view" tabIndex={0} onKeyDown={onKeyDown} data-testid="adj-view">
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
            <label>
              <input
                type="checkbox"
                data-testid={`adj-reader-${reader.index}`}
                checked={shown.has(reader.index)}
                onChange={() => toggleReader(reader.index)}
              />
              <span className="swatch" style={{ background: readerColour(reader.index) }} />
              {reader.index}.{' '}
              <span data-testid={`adj-reader-name-${reader.index}`}>{reader.name}</span>{' '}
              <span className="muted">({reader.area} px)</span>
            </label>
            <button
              type="button"
              data-testid={`adj-take-${reader.index}`}
              onClick={() => takeReader(reader.index)}
            >
              Take reader {reader.index}
            </button>
          </li>
        ))}
      </ul>
      <div className="adjudication-tools">
        <label>
          <input
            type="checkbox"
            data-testid="adj-outline"
            checked={showOutline}
            disabled={!probability}
            onChange={() => setShowOutline((v) => !v)}
          />
          Consensus outline (C)
        </label>
        <label>
          <input
            type="checkbox"
            data-testid="adj-map"
            checked={showMap}
            disabled={!probability}
            onChange={() => setShowMap((v) => !v)}
          />
          Probability map (P)
        </label>
        <button
          type="button"
          data-testid="adj-from-consensus"
          disabled={!probability}
          title={probability ? undefined : 'no consensus computed for this image'}
          onClick={startFromConsensus}
        >
          Start from consensus{method ? ` (${method})` : ''}
        </button>
        <button type="button" aria-pressed={tool === 'brush'} onClick={() => setTool('brush')}>
          Brush (B)
        </button>
        <button
          type="button"
          data-testid="adj-eraser"
          aria-pressed={tool === 'eraser'}
          onClick={() => setTool('eraser')}
        >
          Eraser (E)
        </button>
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
        <button
          type="button"
          data-testid="adj-save"
          disabled={!candidate || busy}
          onClick={() => void save()}
        >
          Save as final
        </button>
      </p>
      {error && (
        <p role="alert" className="error">
          {error}
        </p>
      )}
    </div>
  );
}
