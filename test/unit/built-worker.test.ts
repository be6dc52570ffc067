/**
 * The ML worker as Electron's utilityProcess loads it: the built bundle out/main/worker.js, with
 * its externalized native modules (onnxruntime-node, sharp, better-sqlite3) and tfjs's wasm files
 * resolved from there, forked under Node through WorkerHost; it trains, predicts and evaluates.
 */
import fs from 'node:fs';
import path from 'node:path';
import { afterEach, beforeAll, describe, expect, it } from 'vitest';
import type { Job } from '../../src/shared/contract';
import { createService, type Service } from '../../src/core/service';
import { nodeWorkerLauncher } from '../../src/core/ml/node-launcher';
import { latestPrediction } from '../../src/core/project/masks';
import { discProject } from './ml-fixtures';
import { builtMain, ensureBuiltBundles } from './built-bundles';

const services: Service[] = [];
afterEach(() => {
  while (services.length > 0) services.pop()?.close();
});

beforeAll(() => ensureBuiltBundles(), 300_000);

function openOnBundle(dir: string, backend: 'auto' | 'wasm'): Service {
  const service = createService({
    transport: 'http',
    backend,
    projectDir: dir,
    workerLauncher: nodeWorkerLauncher(path.join(builtMain, 'worker.js')),
  });
  services.push(service);
  return service;
}

async function finish(service: Service, job: Job): Promise<Job> {
  await service.jobs.wait(job.id).catch(() => undefined);
  return service.jobs.get(job.id);
}

describe('the built worker bundle', () => {
  it('trains, predicts and evaluates on the first engine of the ladder, then on wasm', async () => {
    expect(fs.existsSync(path.join(builtMain, 'worker.js'))).toBe(true);
    const project = await discProject(8, 3);
    // Batches of 4 split across 2 replica threads: the bundle's replica-thread.js must load.
    process.env.QATASEG_REPLICAS = '2';
    const service = openOnBundle(project.dir, 'auto');
    const status = await service.worker.ensureStarted();
    expect(status.state).toBe('ready');

    const train = await finish(
      service,
      await service.invoke('train.start', {
        size: 32,
        base: 4,
        batch: 4,
        epochs: 1,
        learningRate: 3e-3,
        valFraction: 0.25,
        seed: 5,
      }),
    );
    expect(train.error).toBeNull();
    expect(train.state).toBe('succeeded');
    const card = await service.invoke('models.get', { version: 'v1' });
    expect(card.backend).toBe(status.backend);
    delete process.env.QATASEG_REPLICAS;
    if (card.backend === 'onnxruntime')
      expect(card.parallelism).toMatch(
        /^[1-9]\d* of \d+ steps split across replica threads, \d+ in one session of 1 thread\(s\)$/,
      );

    const predict = await finish(service, await service.invoke('predict.start', {}));
    expect(predict.state).toBe('succeeded');
    for (const id of project.ids)
      expect(latestPrediction(service.project().db, id, 'v1')).not.toBeNull();
    const evaluation = await service.invoke('evaluate.run', { split: 'test' });
    expect(evaluation.images).toBe(3);
    service.close();
    services.pop();

    // tfjs's wasm binaries, resolved from the bundle's folder.
    const onWasm = openOnBundle(project.dir, 'wasm');
    expect((await onWasm.worker.ensureStarted()).backend).toBe('wasm');
    const again = await onWasm.invoke('evaluate.run', { split: 'test' });
    expect(again.images).toBe(3);
    expect(again.dice).toBeCloseTo(evaluation.dice, 3);
  }, 300_000);
});
