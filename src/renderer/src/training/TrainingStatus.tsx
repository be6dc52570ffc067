/** The running or last training job: phase, backend, speed, ETA, its curves and figures. */
import { useRef } from 'react';
import type { Job } from '../../../shared/contract';
import { Curves } from './Curves';
import {
  appendStep,
  bestRecord,
  figure,
  formatDuration,
  stepPoint,
  trainingView,
  type StepPoint,
} from './training-model';

export function TrainingStatus({ job }: { job: Job }) {
  const view = trainingView(job);
  const stepsRef = useRef<{ jobId: string; points: StepPoint[] }>({ jobId: job.id, points: [] });
  if (stepsRef.current.jobId !== job.id) stepsRef.current = { jobId: job.id, points: [] };
  stepsRef.current.points = appendStep(stepsRef.current.points, stepPoint(view));
  const steps = stepsRef.current.points;
  const last = view.history[view.history.length - 1];
  const best = bestRecord(view);
  return (
    <div className="training-status" data-testid="training-status" data-state={job.state}>
      <div className="training-figures">
        <span>
          <b>{view.version ?? '…'}</b> {job.state === 'running' ? job.phase : job.state}
        </span>
        <span data-testid="training-backend">backend: {view.backend ?? '…'}</span>
        <span data-testid="training-speed">
          {view.imagesPerSecond === null ? '–' : `${view.imagesPerSecond.toFixed(1)} img/s`}
        </span>
        {job.state === 'running' && (
          <span data-testid="training-eta">ETA {formatDuration(view.etaSeconds)}</span>
        )}
      </div>
      <Curves history={view.history} steps={steps} epochs={view.epochs} />
      <div className="training-figures muted">
        <span className="legend-loss">● loss {figure(last?.loss ?? view.loss, 4)}</span>
        <span className="legend-dice">■ val Dice {figure(last?.valDice)}</span>
        {best && (
          <span
            data-testid="run-best-val-dice"
            title="The version keeps the epoch with the best validation Dice (measured at each image's resolution): the figure of the versions table"
          >
            version: {figure(best.valDice)} (epoch {best.epoch})
          </span>
        )}
        {job.state === 'failed' && <span className="job-error">{job.error}</span>}
        {job.state === 'succeeded' && view.promoted !== null && (
          <span data-testid="training-promoted">
            {view.promoted ? 'promoted to active' : 'not promoted'}
          </span>
        )}
      </div>
    </div>
  );
}
