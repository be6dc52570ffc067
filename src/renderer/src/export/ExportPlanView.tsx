/**
 * The confirmation step of an export: the absolute target folder, what will be written there and
 * what is in the way, before anything is written. "Write" starts the job only from here.
 */
import { plural } from '../../../shared/plural';
import type { ExportFormat, ExportPlan } from '../../../shared/export-schemas';
import { FORMAT_LABELS } from './export-text';

export function ExportPlanView({
  plan,
  format,
  copyImages,
  overwrite,
  busy,
  onConfirm,
}: {
  plan: ExportPlan;
  format: ExportFormat;
  copyImages: boolean;
  overwrite: boolean;
  busy: boolean;
  onConfirm: () => void;
}) {
  const blocked = plan.conflictCount > 0 && !overwrite;
  const nothing = plan.masks === 0;
  return (
    <div className="export-plan" data-testid="export-plan">
      <p>
        Target <code data-testid="export-target">{plan.out}</code>: {plural(plan.masks, 'mask')} to
        write as {FORMAT_LABELS[format]}
        {copyImages && ', with their images'}
        {plan.model && ` (model ${plan.model})`}
        {plan.skipped.length > 0 && `, ${plural(plan.skipped.length, 'image')} without such a mask`}
        {plan.conflictCount > 0 &&
          `; ${plan.conflictCount} ${plan.conflictCount === 1 ? 'file already exists' : 'files already exist'} (${plan.conflicts.slice(0, 3).join(', ')}${plan.conflictCount > 3 ? ', …' : ''})`}
        .
      </p>
      <button
        type="button"
        data-testid="confirm-export"
        disabled={busy || blocked || nothing}
        title={
          blocked
            ? 'Files already exist: tick "Replace files that already exist" or choose another folder'
            : nothing
              ? 'No image has such a mask'
              : `Write to ${plan.out}`
        }
        onClick={onConfirm}
      >
        Write {plural(plan.masks, 'mask')}
      </button>
    </div>
  );
}
