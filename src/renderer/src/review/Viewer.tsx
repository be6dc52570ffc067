/**
 * The Konva viewer: image and layer canvases (painted offscreen by the controller) blitted by a
 * handful of Konva nodes, with zoom, pan, window/level drag and the editing tools' pointer input.
 */
import { useEffect, useRef, useState, type PointerEvent as ReactPointerEvent } from 'react';
import { Circle, Group, Image as KonvaImage, Layer, Line, Stage } from 'react-konva';
import type Konva from 'konva';
import { dragWindow, type WindowLevel } from '../viewer/window-level';
import type { Point } from '../mask/label-map';
import { actionOfTool } from '../editor/registry';
import { pressTool, runAction } from '../editor/run';
import { review } from './controller';
import { fitView, stageSize, zoomView } from './view-transform';
import { useReviewStore, type ImageFailure, type ViewTransform } from './review-store';

/** An image that cannot be shown, in the viewer's place: which file, where, why, what to do. */
function ImageFailurePanel({ failure }: { failure: ImageFailure }) {
  return (
    <div className="viewer-failure" role="alert" data-testid="image-failure">
      <h3>{failure.name} cannot be shown</h3>
      <dl>
        {failure.file && (
          <>
            <dt>File</dt>
            <dd data-testid="image-failure-file">{failure.file}</dd>
          </>
        )}
        {failure.folder && (
          <>
            <dt>Folder</dt>
            <dd>{failure.folder}</dd>
          </>
        )}
        <dt>Reason</dt>
        <dd data-testid="image-failure-reason">{failure.reason}</dd>
      </dl>
      <p>{failure.advice}</p>
    </div>
  );
}

/** Keeps a drag's events coming when the pointer leaves the viewer; an unknown pointer is fine. */
function capturePointer(element: HTMLElement | null, pointerId: number, capture: boolean): void {
  try {
    if (capture) element?.setPointerCapture(pointerId);
    else element?.releasePointerCapture(pointerId);
  } catch {
    // Synthetic or already-ended pointers cannot be captured; the drag still works inside.
  }
}

type Drag =
  | { kind: 'pan'; startX: number; startY: number; view: ViewTransform }
  | { kind: 'window'; startX: number; startY: number; window: WindowLevel }
  | { kind: 'stroke' };

export function Viewer() {
  const containerRef = useRef<HTMLDivElement>(null);
  const layerRef = useRef<Konva.Layer>(null);
  const editLayerRef = useRef<Konva.Layer>(null);
  const cursorRef = useRef<Konva.Circle>(null);
  const cursorLayerRef = useRef<Konva.Layer>(null);
  const dragRef = useRef<Drag | null>(null);
  const spaceRef = useRef(false);
  const [size, setSize] = useState(stageSize);
  const [pointerInside, setPointerInside] = useState(false);
  const polygon = useReviewStore((s) => s.polygon);

  const view = useReviewStore((s) => s.view);
  const layers = useReviewStore((s) => s.layers);
  const diffEnabled = useReviewStore((s) => s.diff.enabled);
  const tool = useReviewStore((s) => s.tool);
  const brushRadius = useReviewStore((s) => s.brushRadius);
  const detail = useReviewStore((s) => s.detail);
  const loadingImage = useReviewStore((s) => s.loadingImage);
  const imageFailure = useReviewStore((s) => s.imageFailure);
  // Re-render when canvases are replaced (new image size).
  const [, setCanvasGeneration] = useState(0);

  useEffect(() => {
    review.onDraw = () => {
      layerRef.current?.batchDraw();
      editLayerRef.current?.batchDraw();
    };
    review.onDrawEdit = () => editLayerRef.current?.batchDraw();
    review.onImageLoaded = () => {
      setCanvasGeneration((g) => g + 1);
      fitView();
    };
    return () => {
      review.onDraw = null;
      review.onDrawEdit = null;
      review.onImageLoaded = null;
    };
  }, []);

  useEffect(() => {
    const element = containerRef.current;
    if (!element) return;
    const observer = new ResizeObserver(() => {
      const next = { width: element.clientWidth, height: element.clientHeight };
      const changed = next.width !== stageSize.width || next.height !== stageSize.height;
      Object.assign(stageSize, next);
      setSize(next);
      if (changed) fitView();
    });
    observer.observe(element);
    return () => observer.disconnect();
  }, []);

  useEffect(() => {
    const down = (event: KeyboardEvent) => {
      if (event.key === ' ' && !(event.target instanceof HTMLInputElement)) {
        spaceRef.current = true;
        if (event.target === document.body) event.preventDefault();
      }
    };
    const up = (event: KeyboardEvent) => {
      if (event.key === ' ') spaceRef.current = false;
    };
    window.addEventListener('keydown', down);
    window.addEventListener('keyup', up);
    return () => {
      window.removeEventListener('keydown', down);
      window.removeEventListener('keyup', up);
    };
  }, []);

  const toImage = (event: { clientX: number; clientY: number }): Point => {
    const rect = containerRef.current!.getBoundingClientRect();
    const v = useReviewStore.getState().view;
    return {
      x: (event.clientX - rect.left - v.x) / v.scale,
      y: (event.clientY - rect.top - v.y) / v.scale,
    };
  };

  const moveCursor = (point: Point) => {
    const cursor = cursorRef.current;
    if (!cursor) return;
    cursor.position(point);
    cursorLayerRef.current?.batchDraw();
  };

  const onPointerDown = (event: ReactPointerEvent<HTMLDivElement>) => {
    if (!review.bundle) return;
    const state = useReviewStore.getState();
    const point = toImage(event);
    capturePointer(containerRef.current, event.pointerId, true);
    const startPan = () => {
      event.preventDefault();
      dragRef.current = {
        kind: 'pan',
        startX: event.clientX,
        startY: event.clientY,
        view: state.view,
      };
    };
    if (event.button === 1 || (event.button === 0 && spaceRef.current)) {
      startPan();
      return;
    }
    if (event.button === 2) {
      dragRef.current = {
        kind: 'window',
        startX: event.clientX,
        startY: event.clientY,
        window: state.window ?? {
          center: state.maxValue / 2,
          width: state.maxValue,
          invert: false,
        },
      };
      return;
    }
    if (event.button !== 0) return;
    const pressed = pressTool(point, { alt: event.altKey });
    if (pressed === 'stroke') dragRef.current = { kind: 'stroke' };
    else if (pressed === 'pan') startPan();
  };

  const onPointerMove = (event: ReactPointerEvent<HTMLDivElement>) => {
    const drag = dragRef.current;
    const native = event.nativeEvent;
    // Coalesced events give every sample the pointer took between frames: smoother strokes.
    const samples =
      drag?.kind === 'stroke' ? (native.getCoalescedEvents?.() ?? [native]) : [native];
    const last = toImage(samples.length > 0 ? samples[samples.length - 1] : native);
    moveCursor(last);
    if (!drag) return;
    if (drag.kind === 'stroke') {
      for (const sample of samples.length > 0 ? samples : [native])
        review.strokeTo(toImage(sample));
    } else if (drag.kind === 'pan') {
      useReviewStore.getState().set({
        view: {
          ...drag.view,
          x: drag.view.x + event.clientX - drag.startX,
          y: drag.view.y + event.clientY - drag.startY,
        },
      });
    } else {
      const { maxValue, set } = useReviewStore.getState();
      set({
        window: dragWindow(
          drag.window,
          event.clientX - drag.startX,
          event.clientY - drag.startY,
          maxValue,
        ),
      });
      review.renderImage();
      review.onDraw?.();
    }
  };

  const onPointerUp = (event: ReactPointerEvent<HTMLDivElement>) => {
    const drag = dragRef.current;
    dragRef.current = null;
    capturePointer(containerRef.current, event.pointerId, false);
    if (drag?.kind === 'stroke') review.strokeEnd();
  };

  const onWheel = (event: React.WheelEvent<HTMLDivElement>) => {
    const rect = containerRef.current!.getBoundingClientRect();
    zoomView(Math.exp(-event.deltaY / 500), {
      x: event.clientX - rect.left,
      y: event.clientY - rect.top,
    });
  };

  const showOverlays = !diffEnabled;
  const cursor = actionOfTool(tool).tool!.cursor;
  const brushCursorShown = cursor === 'brush' && pointerInside && !!detail;
  const canvases = review.canvases;

  return (
    <div
      ref={containerRef}
      className={`viewer tool-${tool} cursor-${cursor}`}
      data-testid="viewer"
      data-image-id={detail?.id ?? ''}
      data-failed={imageFailure ? 'true' : 'false'}
      data-loading={loadingImage ? 'true' : 'false'}
      data-brush-cursor={brushCursorShown ? 'shown' : 'hidden'}
      onPointerDown={onPointerDown}
      onPointerMove={onPointerMove}
      onPointerUp={onPointerUp}
      onPointerCancel={onPointerUp}
      onPointerEnter={(event) => {
        setPointerInside(true);
        moveCursor(toImage(event));
      }}
      onPointerLeave={() => setPointerInside(false)}
      onWheel={onWheel}
      onDoubleClick={() => {
        if (useReviewStore.getState().polygon.length >= 3) runAction('polygon.close');
      }}
      onContextMenu={(event) => event.preventDefault()}
    >
      {imageFailure && <ImageFailurePanel failure={imageFailure} />}
      {!detail && !imageFailure && (
        <div className="viewer-message muted">Pick an image from the worklist.</div>
      )}
      <Stage width={size.width} height={size.height} listening={false}>
        <Layer ref={layerRef} imageSmoothingEnabled={false} listening={false}>
          <Group x={view.x} y={view.y} scaleX={view.scale} scaleY={view.scale}>
            {canvases.image && layers.image.visible && (
              <KonvaImage image={canvases.image} opacity={layers.image.opacity} />
            )}
            {showOverlays &&
              (['ground-truth', 'prediction'] as const).map((id) =>
                canvases[id] && layers[id].visible ? (
                  <KonvaImage key={id} image={canvases[id]} opacity={layers[id].opacity} />
                ) : null,
              )}
          </Group>
        </Layer>
        <Layer ref={editLayerRef} imageSmoothingEnabled={false} listening={false}>
          <Group x={view.x} y={view.y} scaleX={view.scale} scaleY={view.scale}>
            {showOverlays && canvases.label && layers.label.visible && (
              <KonvaImage image={canvases.label} opacity={layers.label.opacity} />
            )}
            {diffEnabled && canvases.diff && <KonvaImage image={canvases.diff} opacity={0.7} />}
            {polygon.length > 0 && (
              <Line
                points={polygon.flatMap((p) => [p.x, p.y])}
                stroke={tool === 'polygonCut' ? '#f87171' : '#4ade80'}
                strokeWidth={1.5 / view.scale}
                closed={polygon.length >= 3}
                dash={[4 / view.scale, 4 / view.scale]}
              />
            )}
          </Group>
        </Layer>
        <Layer ref={cursorLayerRef} listening={false}>
          <Group x={view.x} y={view.y} scaleX={view.scale} scaleY={view.scale}>
            <Circle
              ref={cursorRef}
              radius={brushRadius}
              stroke={tool === 'eraser' ? '#f87171' : '#e5e7eb'}
              strokeWidth={1 / view.scale}
              visible={brushCursorShown}
            />
          </Group>
        </Layer>
      </Stage>
    </div>
  );
}
