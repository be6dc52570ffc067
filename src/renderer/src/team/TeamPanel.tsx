/**
 * The Team panel (admin, adjudicator, researcher; the host enforces the roles): a reading plan's
 * agreement (`team.agreement`) with the reader-pair matrix, each reader against the consensus,
 * kappa on negative/positive and the disputed images; "Compute consensus" runs `consensus.run`
 * (progress, Cancel) and stores it; "Download CSV" saves every figure (shared/agreement-csv.ts).
 */
import { useCallback, useEffect, useState } from 'react';
import { agreementCsv } from '../../../shared/agreement-csv';
import type { AgreementReport, ConsensusMethod } from '../../../shared/agreement-schemas';
import { api } from '../api';
import { JobDialog } from '../common/JobDialog';
import { JobRow } from '../jobs/JobsBar';
import { useFollowedJob } from '../jobs/use-followed-job';
import { useReadOnlyMessage } from '../store';
import { DisputedImages, figure, PairMatrix, ReaderFigures } from './TeamFigures';
import { useTeamPanel } from './team-panel-store';

function downloadCsv(report: AgreementReport): void {
  const url = URL.createObjectURL(new Blob([agreementCsv(report)], { type: 'text/csv' }));
  const link = document.createElement('a');
  link.href = url;
  link.download = `agreement-plan-${report.plan.id}-${report.method}.csv`;
  document.body.append(link);
  link.click();
  link.remove();
  setTimeout(() => URL.revokeObjectURL(url), 1000);
}

export function TeamPanel() {
  const { open, setOpen } = useTeamPanel();
  const [method, setMethod] = useState<ConsensusMethod>('staple');
  const [report, setReport] = useState<AgreementReport | null>(null);
  const [error, setError] = useState<string | null>(null);
  const readOnly = useReadOnlyMessage();
  const { job, follow, forget } = useFollowedJob();
  const running = job?.state === 'running';

  const load = useCallback(async () => {
    try {
      setReport(await api['team.agreement']({ method }));
      setError(null);
    } catch (reason) {
      setReport(null);
      setError(reason instanceof Error ? reason.message : String(reason));
    }
  }, [method]);

  useEffect(() => {
    if (open) void load();
  }, [open, load]);

  // A consensus run that ended changes which figures come from a stored consensus.
  useEffect(() => {
    if (job && job.state !== 'running') void load();
  }, [job, load]);

  const computeConsensus = async () => {
    try {
      forget();
      follow(await api['consensus.run']({ method, planId: report?.plan.id }));
    } catch (reason) {
      setError(reason instanceof Error ? reason.message : String(reason));
    }
  };

  return (
    <JobDialog
      open={open}
      onClose={() => setOpen(false)}
      busy={running}
      testId="team-panel"
      onSubmit={() => void load()}
    >
      <h2>Team: agreement</h2>
      {report && (
        <p data-testid="team-summary">
          Plan {report.plan.id} “{report.plan.name}”: {report.summary.images} image(s),{' '}
          {report.summary.compared} read by two or more; mean pairwise Dice{' '}
          {figure(report.summary.meanDice)};{' '}
          <span data-testid="team-kappa">
            {report.kappa.kind === 'cohen' ? 'Cohen' : 'Fleiss'} κ {figure(report.kappa.value)}
          </span>{' '}
          on negative/positive over {report.kappa.images} image(s) read by every assigned reader.
          Two empty labels count as agreement (Dice 1).
        </p>
      )}
      <label>
        Consensus{' '}
        <select
          data-testid="team-method"
          value={method}
          onChange={(event) => setMethod(event.target.value as ConsensusMethod)}
        >
          <option value="staple">STAPLE</option>
          <option value="vote">Majority vote</option>
        </select>
      </label>
      {error && (
        <p role="alert" className="error" data-testid="team-error">
          {error}
        </p>
      )}
      {report && (
        <>
          <PairMatrix report={report} />
          <ReaderFigures report={report} />
          <p className="muted" data-testid="team-consensus-stored">
            Consensus stored for {report.summary.consensusStored} of {report.summary.compared}{' '}
            image(s); the others are computed for these figures only.
          </p>
          <DisputedImages report={report} />
        </>
      )}
      {job && <JobRow job={job} />}
      <div className="actions">
        <button
          type="button"
          data-testid="team-consensus"
          disabled={!report || running || readOnly !== null}
          title={readOnly ?? 'Compute and store each image’s consensus of this plan'}
          onClick={() => void computeConsensus()}
        >
          Compute consensus
        </button>
        <button
          type="button"
          data-testid="team-csv"
          disabled={!report}
          onClick={() => report && downloadCsv(report)}
        >
          Download CSV
        </button>
        <button type="submit" data-testid="team-refresh">
          Refresh
        </button>
        <button
          type="button"
          data-testid="team-close"
          disabled={running}
          onClick={() => setOpen(false)}
        >
          Close
        </button>
      </div>
    </JobDialog>
  );
}
