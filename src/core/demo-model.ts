/**
 * The demo project's first model: a first start should land on predictions to review, not on an
 * empty Dice column. When the demo project has no model version yet, a small U-Net is trained on
 * its phantoms in the ML worker (the Training panel and the jobs bar show its progress like any
 * run), promoted, and every image predicted; the worklist fills as predictions are saved.
 *
 * Trained here rather than shipped under resources/: on a 2-core machine the run below takes
 * about a minute, it proves the whole loop on the user's own install (engine, worker, store), and
 * the repository keeps no generated weights that would drift from the code that reads them.
 */
import type { TrainParamsInput } from '../shared/contract-ml';
import type { Job } from '../shared/contract';
import { listVersionNames, activeVersion } from './ml/versions';
import { unpredictedImageIds } from './project/masks';
import type { Service } from './service';

/** Small enough for a first start on two cores (about a minute), good enough to review. */
export const DEMO_TRAIN_PARAMS: TrainParamsInput = {
  epochs: 12,
  size: 128,
  base: 8,
  batch: 8,
  promote: 'always',
};

async function finished(service: Service, job: Job): Promise<Job> {
  await service.jobs.wait(job.id).catch(() => undefined);
  return service.jobs.get(job.id);
}

/**
 * Trains and predicts the demo project's first model when it has none, or predicts the images the
 * active model has not predicted yet. A project with any model version (finished or not) gets no
 * new run: an unfinished one is the user's to resume. Resolves with what it did.
 */
export async function prepareDemoModel(
  service: Service,
  params: TrainParamsInput = DEMO_TRAIN_PARAMS,
): Promise<'trained' | 'predicted' | 'nothing'> {
  const store = service.project();
  let did: 'trained' | 'predicted' | 'nothing' = 'nothing';
  if (listVersionNames(store).length === 0) {
    const train = await finished(service, await service.invoke('train.start', params));
    if (train.state !== 'succeeded') return did;
    did = 'trained';
  }
  const active = activeVersion(store);
  if (!active) return did;
  const missing = unpredictedImageIds(store.db, active);
  if (missing.length === 0) return did;
  await finished(service, await service.invoke('predict.start', { imageIds: missing }));
  return did === 'nothing' ? 'predicted' : did;
}
