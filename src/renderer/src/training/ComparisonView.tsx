/**
 * A finished version against the active one on the locked test split: Dice and IoU, per-image
 * wins and losses, the images that changed most, and Promote (confirmed when it is worse).
 */
import { useState } from 'react';
import type { ModelComparison } from '../../../shared/contract-ml';
import { useReadOnlyMessage } from '../store';
import { figure, promotionShortfall } from './training-model';

export function ComparisonView({
  comparison,
  onPromote,
}: {
  comparison: ModelComparison;
  onPromote: (version: string, confirmWorse: boolean) => void;
}) {
  const { a, b, splits } = comparison;
  const [confirming, setConfirming] = useState(false);
  const readOnly = useReadOnlyMessage();
  const shortfall = promotionShortfall(comparison);
  const rows = [...comparison.perImage].sort((x, y) => y.delta - x.delta);
  const shown = [...rows.slice(0, 3), ...rows.slice(Math.max(3, rows.length - 3))];
  return (
    <div className="comparison" data-testid="comparison">
      <h4>
        {b} vs active {a} on the locked test split
      </h4>
      {!comparison.sameTestSplit && (
        <p className="job-error">
          Tested on different test splits: the figures are not comparable.
        </p>
      )}
      <table>
        <thead>
          <tr>
            <th />
            <th>{a}</th>
            <th>{b}</th>
          </tr>
        </thead>
        <tbody>
          <tr>
            <td>Test Dice</td>
            <td>{figure(splits.test.a?.dice)}</td>
            <td data-testid="comparison-dice-b">{figure(splits.test.b?.dice)}</td>
          </tr>
          <tr>
            <td>Test IoU</td>
            <td>{figure(splits.test.a?.iou)}</td>
            <td>{figure(splits.test.b?.iou)}</td>
          </tr>
          <tr>
            <td>Val Dice</td>
            <td>{figure(splits.val.a?.dice)}</td>
            <td>{figure(splits.val.b?.dice)}</td>
          </tr>
        </tbody>
      </table>
      <p data-testid="comparison-wins">
        Per test image: {b} wins <b>{comparison.wins}</b>, loses <b>{comparison.losses}</b>, ties{' '}
        {comparison.ties}
      </p>
      {shown.length > 0 && (
        <ul className="comparison-images muted">
          {shown.map((row) => (
            <li key={row.imageId}>
              {row.image}: {row.a.toFixed(3)} → {row.b.toFixed(3)} ({row.delta >= 0 ? '+' : ''}
              {row.delta.toFixed(3)})
            </li>
          ))}
        </ul>
      )}
      {confirming && shortfall ? (
        <div className="promote-confirm" role="alertdialog" data-testid="promote-confirm">
          <p>
            {b} is worse than the active {a} on the locked test split by{' '}
            <b data-testid="promote-shortfall">{shortfall.by.toFixed(4)}</b> Dice (
            {shortfall.dice.toFixed(4)} against {shortfall.activeDice.toFixed(4)}). Promote it
            anyway?
          </p>
          <button
            type="button"
            data-testid="promote-anyway"
            onClick={() => {
              setConfirming(false);
              onPromote(b, true);
            }}
          >
            Promote {b} anyway
          </button>
          <button type="button" data-testid="promote-cancel" onClick={() => setConfirming(false)}>
            Keep {a}
          </button>
        </div>
      ) : (
        <button
          type="button"
          data-testid={`promote-${b}`}
          disabled={readOnly !== null}
          title={readOnly ?? undefined}
          onClick={() => (shortfall ? setConfirming(true) : onPromote(b, false))}
        >
          Promote {b}
        </button>
      )}
    </div>
  );
}
