/**
 * "Model versions": every version with where it came from and its figures, its card, ONNX export,
 * the comparison with the active one (and Promote), models and predictions from elsewhere, and
 * Roll back to the version that was active before.
 */
import { useState } from 'react';
import type { ModelComparison, ModelSummary } from '../../../shared/contract-ml';
import { api } from '../api';
import { AddModelForm } from './AddModelForm';
import { ComparisonView } from './ComparisonView';
import { ExportOnnxForm } from './ExportOnnxForm';
import { ImportPredictionsForm } from './ImportPredictionsForm';
import { figure, versionOrigin } from './training-model';
import { VersionCardView } from './VersionCardView';

export function VersionsSection({
  models,
  active,
  comparison,
  readOnly,
  run,
  onCompare,
}: {
  models: ModelSummary[];
  active: ModelSummary | null;
  comparison: ModelComparison | null;
  readOnly: string | null;
  run: (action: () => Promise<unknown>) => void;
  onCompare: (version: string) => void;
}) {
  const [opened, setOpened] = useState<string | null>(null);
  const [exporting, setExporting] = useState<string | null>(null);
  const [interopForm, setInteropForm] = useState<'add-model' | 'import-predictions' | null>(null);
  const rollbackTo = models.find((model) => model.rollbackTarget) ?? null;
  return (
    <section>
      <h4>Model versions</h4>
      <table className="versions" data-testid="versions">
        <thead>
          <tr>
            <th>Version</th>
            <th>From</th>
            <th>Size/base</th>
            <th>Val Dice</th>
            <th>Test Dice</th>
            <th />
          </tr>
        </thead>
        <tbody>
          {models.map((model) => (
            <tr
              key={model.version}
              data-testid="version-row"
              data-version={model.version}
              data-active={model.active}
              className={model.active ? 'active' : undefined}
            >
              <td>
                <button
                  type="button"
                  className="link"
                  data-testid={`version-open-${model.version}`}
                  title={`Open the version's card${model.backend ? ` (trained on ${model.backend})` : ''}`}
                  disabled={model.state !== 'complete'}
                  onClick={() => setOpened(model.version)}
                >
                  {model.version}
                </button>
                {model.active && <span className="badge">active</span>}
                {model.state === 'incomplete' && <span className="badge muted">incomplete</span>}
                {model.state === 'damaged' && (
                  <span className="badge warn" title={model.damage} data-testid="damaged-badge">
                    damaged
                  </span>
                )}
              </td>
              <td data-testid="version-source">{versionOrigin(model)}</td>
              <td>
                {model.source === 'trained' || !model.source
                  ? `${model.size ?? '?'}/${model.base ?? '?'}`
                  : (model.input ?? '–')}
              </td>
              <td>{figure(model.valDice)}</td>
              <td>{figure(model.testDice)}</td>
              <td>
                {model.state === 'complete' && !model.active && (
                  <button type="button" onClick={() => onCompare(model.version)}>
                    Compare
                  </button>
                )}
                {model.state === 'complete' && model.source !== 'predictions' && (
                  <button
                    type="button"
                    data-testid={`export-onnx-${model.version}`}
                    title="Write this version as a standalone ONNX file"
                    onClick={() => setExporting(model.version)}
                  >
                    ONNX
                  </button>
                )}
              </td>
            </tr>
          ))}
        </tbody>
      </table>
      {models.length === 0 && <p className="muted">No model yet: train one.</p>}
      {opened && (
        <VersionCardView
          key={opened}
          version={opened}
          onClose={() => setOpened(null)}
          onPredict={(version) => run(() => api['predict.start']({ model: version }))}
          onExport={(version) => setExporting(version)}
        />
      )}
      {exporting && (
        <ExportOnnxForm key={exporting} version={exporting} onClose={() => setExporting(null)} />
      )}
      {comparison && (
        <ComparisonView
          comparison={comparison}
          onPromote={(version, confirmWorse) =>
            run(() => api['models.promote']({ version, confirmWorse }))
          }
        />
      )}
      <div className="actions">
        <button
          type="button"
          data-testid="add-model-open"
          disabled={readOnly !== null}
          title={readOnly ?? undefined}
          onClick={() => setInteropForm('add-model')}
        >
          Add ONNX model…
        </button>
        <button
          type="button"
          data-testid="import-predictions-open"
          disabled={readOnly !== null}
          title={readOnly ?? undefined}
          onClick={() => setInteropForm('import-predictions')}
        >
          Import predictions…
        </button>
      </div>
      {interopForm === 'add-model' && <AddModelForm onClose={() => setInteropForm(null)} />}
      {interopForm === 'import-predictions' && (
        <ImportPredictionsForm onClose={() => setInteropForm(null)} />
      )}
      <div className="actions">
        <button
          type="button"
          data-testid="rollback"
          disabled={!rollbackTo || readOnly !== null}
          title={
            readOnly ??
            (rollbackTo
              ? `Make ${rollbackTo.version} active again (it was active before ${active?.version ?? 'this one'})`
              : 'Nothing to roll back to: no version was active before this one')
          }
          onClick={() => run(() => api['models.rollback']())}
        >
          {rollbackTo ? `Roll back to ${rollbackTo.version}` : 'Roll back'}
        </button>
      </div>
    </section>
  );
}
