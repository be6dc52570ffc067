/**
 * Training curves as one small SVG: training loss per epoch (and the live per-step loss of the
 * running epoch, faint) on the left axis, validation Dice (0..1) on the right axis. Memoised: it
 * re-renders only when its points change, so a running job costs the renderer almost nothing.
 */
import { memo } from 'react';
import type { EpochRecordInfo } from '../../../shared/contract-ml';
import type { StepPoint } from './training-model';

const WIDTH = 360;
const HEIGHT = 150;
const PAD = { left: 38, right: 34, top: 10, bottom: 22 };

interface CurvesProps {
  history: readonly EpochRecordInfo[];
  steps: readonly StepPoint[];
  epochs: number | null;
}

function path(points: [number, number][]): string {
  return points
    .map(([x, y], i) => `${i === 0 ? 'M' : 'L'}${x.toFixed(1)},${y.toFixed(1)}`)
    .join('');
}

export const Curves = memo(function Curves({ history, steps, epochs }: CurvesProps) {
  const lastEpoch = Math.max(
    1,
    epochs ?? 0,
    history.length > 0 ? history[history.length - 1].epoch : 0,
    steps.length > 0 ? Math.ceil(steps[steps.length - 1].x) : 0,
  );
  const losses = [...history.map((r) => r.loss), ...steps.map((s) => s.loss)];
  const maxLoss = losses.length > 0 ? Math.max(...losses) * 1.05 : 1;
  const minLoss = losses.length > 0 ? Math.min(0, Math.min(...losses)) : 0;
  const innerW = WIDTH - PAD.left - PAD.right;
  const innerH = HEIGHT - PAD.top - PAD.bottom;
  // Epoch e ends at x = e (steps of epoch e lie in (e - 1, e]).
  const sx = (epoch: number) => PAD.left + (epoch / lastEpoch) * innerW;
  const syLoss = (loss: number) =>
    PAD.top + innerH - ((loss - minLoss) / (maxLoss - minLoss || 1)) * innerH;
  const syDice = (dice: number) => PAD.top + innerH - dice * innerH;

  const lossPoints = history.map((r) => [sx(r.epoch), syLoss(r.loss)] as [number, number]);
  const dicePoints = history
    .filter((r) => r.valDice !== null)
    .map((r) => [sx(r.epoch), syDice(r.valDice ?? 0)] as [number, number]);
  const stepPoints = steps.map((s) => [sx(s.x), syLoss(s.loss)] as [number, number]);

  return (
    <svg
      className="curves"
      viewBox={`0 0 ${WIDTH} ${HEIGHT}`}
      role="img"
      aria-label="Training loss and validation Dice per epoch"
      data-testid="training-curves"
      data-epochs={history.length}
      data-steps={steps.length}
    >
      <rect
        x={PAD.left}
        y={PAD.top}
        width={innerW}
        height={innerH}
        className="curves-frame"
        fill="none"
      />
      <text x={PAD.left - 4} y={PAD.top + 8} textAnchor="end" className="curves-axis loss">
        {maxLoss.toFixed(2)}
      </text>
      <text x={PAD.left - 4} y={PAD.top + innerH} textAnchor="end" className="curves-axis loss">
        {minLoss.toFixed(1)}
      </text>
      <text x={WIDTH - PAD.right + 4} y={PAD.top + 8} className="curves-axis dice">
        1.0
      </text>
      <text x={WIDTH - PAD.right + 4} y={PAD.top + innerH} className="curves-axis dice">
        0
      </text>
      <text x={PAD.left} y={HEIGHT - 6} className="curves-axis">
        0
      </text>
      <text x={WIDTH - PAD.right} y={HEIGHT - 6} textAnchor="end" className="curves-axis">
        epoch {lastEpoch}
      </text>
      {stepPoints.length > 1 && <path d={path(stepPoints)} className="curves-steps" fill="none" />}
      {lossPoints.length > 1 && <path d={path(lossPoints)} className="curves-loss" fill="none" />}
      {dicePoints.length > 1 && <path d={path(dicePoints)} className="curves-dice" fill="none" />}
      {lossPoints.map(([x, y], i) => (
        <circle key={`l${i}`} cx={x} cy={y} r={3} className="curves-loss" data-testid="loss-point">
          <title>{`epoch ${history[i].epoch}: loss ${history[i].loss.toFixed(4)}`}</title>
        </circle>
      ))}
      {dicePoints.map(([x, y], i) => (
        <rect
          key={`d${i}`}
          x={x - 3}
          y={y - 3}
          width={6}
          height={6}
          className="curves-dice"
          data-testid="dice-point"
        />
      ))}
    </svg>
  );
});
