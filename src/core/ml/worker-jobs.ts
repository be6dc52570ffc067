/**
 * Registers the ML room's jobs (train, predict, evaluate) in the worker's job table. Called once by
 * the worker entry; each job module calls `registerWorkerJob`.
 */
export function registerMlJobs(): void {
  // Filled in by the engine: train, predict, evaluate.
}
