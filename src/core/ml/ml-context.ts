/**
 * What the ML room's job-starting functions (add a model, import predictions) see of the service
 * that hosts them. The Service satisfies it; the room never imports the Service above it.
 */
import type { EventName, EventPayload, ProjectState } from '../../shared/contract';
import type { JobStarter } from '../job-reporter';
import type { ProjectStore } from '../project/store';
import type { WorkerHost } from './worker-host';

export interface MlContext {
  /** The open project; throws a 'conflict' ApiError when none is open. */
  project(): ProjectStore;
  projectState(): ProjectState;
  emit<E extends EventName>(event: E, payload: EventPayload<E>): void;
  readonly jobs: JobStarter;
  readonly worker: WorkerHost;
}
