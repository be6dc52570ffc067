import { useEffect, useState } from 'react';
import { useAppStore, subscribeToHost, useReadOnlyMessage } from './store';
import { transportName } from './api';
import { ReviewScreen } from './review/ReviewScreen';
import { OpenDatasetDialog } from './dataset/OpenDatasetDialog';
import { JobsBar } from './jobs/JobsBar';
import { TrainingPanel } from './training/TrainingPanel';
import { ExportDialog } from './export/ExportDialog';
import { AdjudicationPanel } from './adjudication/AdjudicationPanel';
import { Notices } from './common/Notices';
import { ConnectionBanner } from './common/ConnectionBanner';
import { ReadOnlyBanner } from './common/ReadOnlyBanner';
import { onReconnected } from './connection';
import { FirstStartBanner } from './guide/FirstStartBanner';
import { ActionButton } from './editor/ActionButton';
import { PacsDialog } from './pacs/PacsDialog';
import { TeamBar } from './team/TeamBar';
import { PlansDialog } from './team/PlansDialog';
import { useReviewStore } from './review/review-store';
import { TeamPanel } from './team/TeamPanel';
import { OpenTeamProjectDialog } from './team/OpenTeamProjectDialog';
import { runAction } from './editor/run';

export function App() {
  const { info, project, worker, error } = useAppStore();
  const load = useAppStore((state) => state.load);
  const [openDatasetShown, setOpenDatasetShown] = useState(false);
  const [trainingShown, setTrainingShown] = useState(false);
  const [exportShown, setExportShown] = useState(false);
  const [adjudicationShown, setAdjudicationShown] = useState(false);
  const readOnly = useReadOnlyMessage();
  const plansShown = useReviewStore((state) => state.plansOpen);
  // A project is open when it has a name: a team reader's project state keeps its folder from
  // them (core/team/visibility.ts), yet they review its images like anyone else.
  const projectOpen = project?.name != null;

  useEffect(() => {
    const unsubscribe = subscribeToHost();
    void load();
    // Back after a lost connection: project, worker and jobs may have moved on meanwhile.
    const offReconnected = onReconnected(() => void load());
    return () => {
      unsubscribe();
      offReconnected();
    };
  }, [load]);

  return (
    <div className="app">
      <header className="topbar">
        <strong>QaTa Seg Workstation</strong>
        <span data-testid="project-name">{project?.name ?? 'No project open'}</span>
        {project?.projectDir && (
          <dl className="project-summary" data-testid="project-state" title={project.projectDir}>
            <dt>Images</dt>
            <dd data-testid="image-count">{project.imageCount}</dd>
            <dt>Labelled</dt>
            <dd data-testid="labelled-count">{project.labelledCount}</dd>
            <dt>Models</dt>
            <dd data-testid="model-count">{project.modelCount}</dd>
          </dl>
        )}
        <button
          type="button"
          data-testid="open-dataset"
          disabled={!project?.projectDir || readOnly !== null}
          title={readOnly ?? undefined}
          onClick={() => setOpenDatasetShown(true)}
        >
          Open dataset…
        </button>
        {/* PACS room: search and retrieve over DICOMweb (src/renderer/src/pacs), a registry action. */}
        {project?.projectDir && <ActionButton id="project.pacs" />}
        <button
          type="button"
          data-testid="open-training"
          aria-pressed={trainingShown}
          disabled={!project?.projectDir}
          onClick={() => setTrainingShown((shown) => !shown)}
        >
          Training…
        </button>
        {/* Export room: batch export of masks (src/renderer/src/export). */}
        <button
          type="button"
          data-testid="open-export"
          disabled={!project?.projectDir}
          onClick={() => setExportShown(true)}
        >
          Export…
        </button>
        {/* Team review: agreement and consensus of a reading plan (src/renderer/src/team). */}
        <button
          type="button"
          data-testid="open-team"
          disabled={!project?.projectDir}
          onClick={() => runAction('team.panel')}
        >
          Team…
        </button>
        {/* Team review: the disputed images of reading plans (src/renderer/src/adjudication). */}
        <button
          type="button"
          data-testid="open-adjudication"
          aria-pressed={adjudicationShown}
          disabled={!project?.projectDir}
          onClick={() => setAdjudicationShown((shown) => !shown)}
        >
          Adjudication…
        </button>
        <span className="spacer" />
        <span
          className="muted"
          data-testid="backend"
          title={worker?.ladder.find((step) => step.status === 'loaded')?.reason}
        >
          ML: {worker?.backend ?? worker?.state ?? '…'}
        </span>
        <TeamBar />
        <span className="muted" data-testid="transport">
          {transportName === 'electron' ? 'desktop' : 'browser mode'}
        </span>
        {info && (
          <span className="muted" data-testid="app-version" title={`Node ${info.node}`}>
            {info.version}
          </span>
        )}
      </header>
      <ConnectionBanner />
      <ReadOnlyBanner />
      <JobsBar />
      {project?.projectDir && !readOnly && (
        <FirstStartBanner onOpenTraining={() => setTrainingShown(true)} />
      )}
      <OpenDatasetDialog open={openDatasetShown} onClose={() => setOpenDatasetShown(false)} />
      <TrainingPanel open={trainingShown} onClose={() => setTrainingShown(false)} />
      <ExportDialog open={exportShown} onClose={() => setExportShown(false)} />
      {project?.projectDir && <PacsDialog />}
      <PlansDialog
        open={plansShown}
        onClose={() => useReviewStore.setState({ plansOpen: false })}
      />
      <TeamPanel />
      {/* Desktop app only: a team server's pages in a window of their own (registry action). */}
      <OpenTeamProjectDialog />
      <AdjudicationPanel open={adjudicationShown} onClose={() => setAdjudicationShown(false)} />
      {error && (
        <div role="alert" className="error">
          {error}
        </div>
      )}
      {/* With Training open the review screen makes room for it beside the viewer. */}
      <main className={trainingShown ? 'content with-training' : 'content'}>
        {projectOpen ? (
          <ReviewScreen />
        ) : (
          <p className="empty" data-testid="empty-state">
            Open a dataset to start.
          </p>
        )}
      </main>
      <Notices />
    </div>
  );
}
