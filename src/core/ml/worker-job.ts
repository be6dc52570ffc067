/**
 * What a job running inside the ML worker process gets: the loaded engine, the backend's name,
 * cancel and progress. The worker's job table (src/worker/jobs.ts) holds handlers of this shape.
 */
import type { BackendName } from '../../shared/contract';
import type { Engine } from './tf';

export interface WorkerJobContext extends Engine {
  backend: BackendName;
  signal: AbortSignal;
  progress: (progress: unknown) => void;
  log: (level: 'info' | 'warn' | 'error', message: string) => void;
}

export type WorkerJobHandler = (params: unknown, context: WorkerJobContext) => Promise<unknown>;
