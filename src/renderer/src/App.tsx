import { useEffect } from 'react';
import { useAppStore, subscribeToHost } from './store';
import { transportName } from './api';

export function App() {
  const { info, project, worker, error } = useAppStore();
  const load = useAppStore((state) => state.load);

  useEffect(() => {
    const unsubscribe = subscribeToHost();
    void load();
    return unsubscribe;
  }, [load]);

  return (
    <div className="app">
      <header className="topbar">
        <strong>QaTa Seg Workstation</strong>
        <span data-testid="project-name">{project?.name ?? 'No project open'}</span>
        <span className="muted" data-testid="transport">
          {transportName === 'electron' ? 'desktop' : 'browser mode'}
        </span>
        <span className="muted" data-testid="backend">
          ML: {worker?.backend ?? worker?.state ?? '…'}
        </span>
      </header>
      {error && (
        <div role="alert" className="error">
          {error}
        </div>
      )}
      <main className="content">
        {project?.projectDir ? (
          <dl data-testid="project-state">
            <dt>Project</dt>
            <dd>{project.projectDir}</dd>
            <dt>Images</dt>
            <dd data-testid="image-count">{project.imageCount}</dd>
            <dt>Masks</dt>
            <dd>{project.maskCount}</dd>
            <dt>Models</dt>
            <dd>{project.modelCount}</dd>
          </dl>
        ) : (
          <p data-testid="empty-state">Open a dataset to start.</p>
        )}
        {info && (
          <footer className="muted" data-testid="app-version">
            {info.name} {info.version} · Node {info.node}
          </footer>
        )}
      </main>
    </div>
  );
}
