import { useEffect, useState } from 'react';
import { plural } from '../../../shared/plural';
import type { ModelCard } from '../../../shared/contract-ml';
import { api } from '../api';
import { useReadOnlyMessage } from '../store';
import { message } from './interop-common';

/** Where a version came from and what it scores: its card, opened from the version table. */
export function VersionCardView({
  version,
  onClose,
  onPredict,
  onExport,
}: {
  version: string;
  onClose: () => void;
  onPredict: (version: string) => void;
  onExport: (version: string) => void;
}) {
  const [card, setCard] = useState<ModelCard | null>(null);
  const [error, setError] = useState<string | null>(null);
  const readOnly = useReadOnlyMessage();
  useEffect(() => {
    let stale = false;
    api['models.get']({ version }).then(
      (loaded) => !stale && setCard(loaded),
      (caught: unknown) => !stale && setError(message(caught)),
    );
    return () => {
      stale = true;
    };
  }, [version]);
  const source = card?.source;
  const test = card?.metrics.test;
  return (
    <div className="interop-form" data-testid="version-card" data-version={version}>
      <h4>Version {version}</h4>
      {error && <p className="job-error">{error}</p>}
      {card && source && (
        <dl className="version-card" data-testid="version-card-source" data-source={source.kind}>
          <dt>Source</dt>
          <dd>
            {source.kind === 'trained' &&
              `trained here${card.parent ? ` (fine-tuned from ${card.parent})` : ' from scratch'} on ${card.backend ?? '?'}`}
            {source.kind === 'onnx' && `ONNX model from ${source.path}`}
            {source.kind === 'predictions' && `predictions imported from ${source.path}`}
          </dd>
          {source.kind === 'onnx' && (
            <>
              <dt>File</dt>
              <dd>
                {(source.bytes / 2 ** 20).toFixed(2)} MiB, SHA-256 {source.sha256.slice(0, 16)}…,
                producer {source.graph.producer || 'unknown'}
              </dd>
              <dt>Input</dt>
              <dd>
                {source.config.input.layout}, {source.config.input.channels} channel(s),{' '}
                {Array.isArray(source.config.input.size)
                  ? `${source.config.input.size[1]}x${source.config.input.size[0]}`
                  : source.config.input.size}{' '}
                {card.input.mode}, scaling {source.config.input.scaling}
              </dd>
              <dt>Output</dt>
              <dd>
                {source.config.output.activation}, {source.config.output.classes} channel(s)
                {source.config.output.classes > 1 &&
                  `, foreground ${source.config.output.foreground}`}
                , threshold {source.config.output.threshold}
              </dd>
            </>
          )}
          {source.kind === 'predictions' && (
            <>
              <dt>Files</dt>
              <dd>
                {source.pairs} paired (
                {Object.entries(source.formats)
                  .map(([format, count]) => `${count} ${format}`)
                  .join(', ')}
                ), {source.unmatched} matching no image, {source.skipped} skipped;{' '}
                {source.probability ? 'probability maps' : 'binary masks'}
              </dd>
            </>
          )}
          {card.architecture && (
            <>
              <dt>Network</dt>
              <dd>
                U-Net base {card.architecture.base}, {card.architecture.size} px {card.input.mode},{' '}
                {card.architecture.parameters.toLocaleString()} parameters, {card.history.length}{' '}
                epochs
              </dd>
            </>
          )}
          <dt>Test split</dt>
          <dd data-testid="version-card-test">
            {test
              ? `Dice ${test.dice.toFixed(3)}, IoU ${test.iou.toFixed(3)} on ${plural(test.images, 'image')}`
              : 'no figures'}
          </dd>
          <dt>Added</dt>
          <dd>{new Date(card.createdAt).toLocaleString()}</dd>
        </dl>
      )}
      <div className="actions">
        {source && source.kind !== 'predictions' && (
          <>
            <button
              type="button"
              data-testid="version-card-predict"
              disabled={readOnly !== null}
              title={readOnly ?? undefined}
              onClick={() => onPredict(version)}
            >
              Predict all images with {version}
            </button>
            <button type="button" onClick={() => onExport(version)}>
              Export ONNX
            </button>
          </>
        )}
        <button type="button" onClick={onClose}>
          Close
        </button>
      </div>
    </div>
  );
}
