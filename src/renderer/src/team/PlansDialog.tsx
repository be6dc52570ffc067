/**
 * "Reading plans" (team review, the admin's form): which images (all or a split), how many
 * readers per image (all, or K balanced across the team's readers), blind, reveal-after,
 * anonymous readers and the disagreement threshold; below it every plan with its progress, each
 * reader's "k of n read", and Close. Opened by the `team.plans` action (key, menu, top bar).
 */
import { useCallback, useEffect, useState } from 'react';
import { JobDialog } from '../common/JobDialog';
import { splitSchema, type Split } from '../../../shared/contract-review';
import type { PlanDetail, PlanSummary } from '../../../shared/contract-team-plans';
import { api } from '../api';

function message(error: unknown): string {
  return error instanceof Error ? error.message : String(error);
}

function PlanRow({ plan, onChanged }: { plan: PlanSummary; onChanged: () => void }) {
  const [detail, setDetail] = useState<PlanDetail | null>(null);
  useEffect(() => {
    let stale = false;
    api['plans.get']({ id: plan.id }).then(
      (loaded) => !stale && setDetail(loaded),
      () => undefined,
    );
    return () => {
      stale = true;
    };
  }, [plan]);
  const rules = [
    plan.readersPerImage === null ? 'all readers' : `${plan.readersPerImage} per image`,
    plan.blind ? 'blind' : 'open',
    plan.revealAfter ? 'reveal after' : null,
    plan.anonymousReaders ? 'anonymous' : null,
  ]
    .filter(Boolean)
    .join(', ');
  return (
    <li data-testid={`plan-${plan.id}`}>
      <strong>{plan.name}</strong> ({plan.status}): {plan.images} images, {rules};{' '}
      <span data-testid="plan-progress">
        {plan.read} of {plan.assignments} reads done
      </span>
      {detail && (
        <ul className="muted">
          {detail.readers.map((reader) => (
            <li key={reader.userId} data-testid={`plan-reader-${reader.name}`}>
              {reader.name}: {reader.read} of {reader.assigned} read
            </li>
          ))}
        </ul>
      )}
      {plan.status === 'active' && (
        <button
          type="button"
          data-testid="plan-close"
          onClick={() => void api['plans.close']({ id: plan.id }).then(onChanged)}
        >
          Close plan
        </button>
      )}
    </li>
  );
}

export function PlansDialog({ open, onClose }: { open: boolean; onClose: () => void }) {
  const [split, setSplit] = useState<Split | 'all'>('all');
  const [everyReader, setEveryReader] = useState(true);
  const [perImage, setPerImage] = useState('3');
  const [blind, setBlind] = useState(true);
  const [revealAfter, setRevealAfter] = useState(false);
  const [anonymous, setAnonymous] = useState(false);
  const [threshold, setThreshold] = useState('0.7');
  const [name, setName] = useState('');
  const [plans, setPlans] = useState<PlanSummary[]>([]);
  const [error, setError] = useState<string | null>(null);
  const [busy, setBusy] = useState(false);

  const reload = useCallback(() => {
    api['plans.list']().then(setPlans, (caught: unknown) => setError(message(caught)));
  }, []);
  useEffect(() => {
    if (!open) return;
    setError(null);
    reload();
  }, [open, reload]);

  const create = async () => {
    setBusy(true);
    setError(null);
    try {
      await api['plans.create']({
        name: name.trim() || undefined,
        selection: split === 'all' ? { kind: 'all' } : { kind: 'split', split },
        readersPerImage: everyReader ? 'all' : Number(perImage),
        blind,
        revealAfter,
        anonymousReaders: anonymous,
        disagreementThreshold: Number(threshold),
      });
      setName('');
      reload();
    } catch (caught) {
      setError(message(caught));
    } finally {
      setBusy(false);
    }
  };

  return (
    <JobDialog
      open={open}
      onClose={onClose}
      busy={busy}
      testId="plans-dialog"
      onSubmit={() => void create()}
    >
      <h2>Reading plans</h2>
      <span className="row">
        <label>
          Name
          <input
            data-testid="plan-name"
            value={name}
            placeholder="Plan N"
            onChange={(event) => setName(event.target.value)}
          />
        </label>
        <label>
          Images
          <select
            data-testid="plan-split"
            value={split}
            onChange={(event) =>
              setSplit(event.target.value === 'all' ? 'all' : splitSchema.parse(event.target.value))
            }
          >
            <option value="all">all images</option>
            {splitSchema.options.map((option) => (
              <option key={option} value={option}>
                {option} split
              </option>
            ))}
          </select>
        </label>
      </span>
      <span className="row">
        <label className="checkbox">
          <input
            type="checkbox"
            data-testid="plan-every-reader"
            checked={everyReader}
            onChange={(event) => setEveryReader(event.target.checked)}
          />
          every reader reads every image
        </label>
        <label>
          Readers per image
          <input
            type="number"
            min={1}
            data-testid="plan-per-image"
            disabled={everyReader}
            value={perImage}
            onChange={(event) => setPerImage(event.target.value)}
          />
        </label>
      </span>
      <fieldset className="row">
        <legend>Rules</legend>
        <label
          className="checkbox"
          title="Readers never see other readers, the ground truth or its figures"
        >
          <input
            type="checkbox"
            data-testid="plan-blind"
            checked={blind}
            onChange={(event) => setBlind(event.target.checked)}
          />
          blind
        </label>
        <label
          className="checkbox"
          title="The model's prediction only after the reader's first save"
        >
          <input
            type="checkbox"
            data-testid="plan-reveal-after"
            checked={revealAfter}
            onChange={(event) => setRevealAfter(event.target.checked)}
          />
          reveal after first save
        </label>
        <label className="checkbox" title="Reader names hidden from the adjudicator">
          <input
            type="checkbox"
            data-testid="plan-anonymous"
            checked={anonymous}
            onChange={(event) => setAnonymous(event.target.checked)}
          />
          anonymous readers
        </label>
        <label title="Mean pairwise Dice below this sends an image to adjudication">
          Disagreement threshold
          <input
            type="number"
            min={0}
            max={1}
            step={0.05}
            data-testid="plan-threshold"
            value={threshold}
            onChange={(event) => setThreshold(event.target.value)}
          />
        </label>
      </fieldset>
      {error && (
        <p role="alert" className="error" data-testid="plans-error">
          {error}
        </p>
      )}
      <span className="row">
        <button type="submit" data-testid="plan-create" disabled={busy}>
          Create plan
        </button>
        <button type="button" onClick={onClose}>
          Close
        </button>
      </span>
      <ul data-testid="plans-list">
        {plans.map((plan) => (
          <PlanRow key={plan.id} plan={plan} onChanged={reload} />
        ))}
      </ul>
    </JobDialog>
  );
}
