/**
 * A whole training run as a user starts it, timed, for two checkouts side by side: the service of
 * each repository given (`--repos DIR,DIR`, default this one) trains a model on the same demo
 * phantoms (`train.start`, the ML worker as a child process), then scores it on the locked test
 * split (`evaluate.run`). Runs alternate between the repositories, so a busy machine's load falls
 * on both alike. Prints per run the wall time of the training job, its img/s, the test-split Dice
 * and the load average, then each repository's means and its ratio to the first. Issue 24's proof:
 * "a training run on the phantoms reaches the same test Dice in less wall time".
 *   tsx bench/proof-run.ts [--repos /old,/new] [--count 60] [--image-size 256] [--size 256]
 *     [--base 16] [--batch 4] [--epochs 16] [--threads 2] [--rounds 2] [--seed 1] [--augment]
 */
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { pathToFileURL } from 'node:url';
import { option } from './options';

const repos = option('repos', process.cwd())
  .split(',')
  .map((repo) => path.resolve(repo));
const count = Number(option('count', '60'));
const imageSize = Number(option('image-size', '256'));
const size = Number(option('size', '256'));
const base = Number(option('base', '16'));
const batch = Number(option('batch', '4'));
const epochs = Number(option('epochs', '16'));
const rounds = Number(option('rounds', '2'));
const seed = Number(option('seed', '1'));
const augment = process.argv.includes('--augment');
// The ML worker is forked by the service and reads this when it starts.
process.env.QATASEG_THREADS = option('threads', '2');

interface Result {
  seconds: number;
  imagesPerSecond: number;
  dice: number;
}
/** The small part of the service's surface both checkouts share. */
interface ServiceLike {
  invoke(method: string, params: unknown): Promise<unknown>;
  jobs: { wait(id: string): Promise<unknown>; get(id: string): { error: unknown } };
  close(): void;
}

async function trainOnce(repo: string): Promise<Result> {
  const load = <T>(file: string) => import(pathToFileURL(path.join(repo, file)).href) as Promise<T>;
  const { createDemoProject } = await load<{
    createDemoProject: (
      dir: string,
      options: { count: number; seed: number; size: number },
    ) => Promise<unknown>;
  }>('src/core/dataset/demo.ts');
  const { createService } = await load<{
    createService: (options: {
      transport: 'http';
      backend: 'onnxruntime';
      projectDir: string;
    }) => ServiceLike;
  }>('src/core/service.ts');
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'qataseg-proof-run-'));
  let service: ServiceLike | undefined;
  try {
    await createDemoProject(dir, { count, seed: 7, size: imageSize });
    service = createService({ transport: 'http', backend: 'onnxruntime', projectDir: dir });
    const started = performance.now();
    const job = (await service.invoke('train.start', {
      epochs,
      size,
      base,
      batch,
      learningRate: 3e-3,
      seed,
      augment,
    })) as { id: string };
    await service.jobs.wait(job.id).catch(() => undefined);
    const seconds = (performance.now() - started) / 1000;
    const failure = service.jobs.get(job.id).error;
    if (failure) throw new Error(`training failed in ${repo}: ${JSON.stringify(failure)}`);
    const card = (await service.invoke('models.get', { version: 'v1' })) as {
      imagesPerSecond: number;
    };
    const evaluation = (await service.invoke('evaluate.run', { split: 'test' })) as {
      dice: number;
    };
    return { seconds, imagesPerSecond: card.imagesPerSecond, dice: evaluation.dice };
  } finally {
    service?.close();
    fs.rmSync(dir, { recursive: true, force: true });
  }
}

console.log(
  `${count} demo phantoms of ${imageSize} px, trained at ${size} px, base ${base}, batch ${batch}, ` +
    `${epochs} epochs, seed ${seed}, ${process.env.QATASEG_THREADS} thread(s), ` +
    `augmentation ${augment ? 'on' : 'off'}`,
);
const results = new Map<string, Result[]>(repos.map((repo) => [repo, []]));
for (let round = 0; round < rounds; round++)
  for (let k = 0; k < repos.length; k++) {
    // Each round starts one repository further on, so neither always runs first.
    const repo = repos[(round + k) % repos.length];
    const result = await trainOnce(repo);
    results.get(repo)!.push(result);
    console.log(
      `  round ${round + 1} ${repo}: ${result.seconds.toFixed(1)} s, ` +
        `${result.imagesPerSecond.toFixed(2)} img/s, test Dice ${result.dice.toFixed(4)}, ` +
        `load ${os.loadavg()[0].toFixed(1)}`,
    );
  }
const mean = (values: number[]) => values.reduce((sum, v) => sum + v, 0) / values.length;
const firstSeconds = mean(results.get(repos[0])!.map((r) => r.seconds));
for (const [repo, list] of results) {
  const seconds = mean(list.map((r) => r.seconds));
  console.log(
    `${repo}: mean ${seconds.toFixed(1)} s (x${(firstSeconds / seconds).toFixed(2)} faster than the first), ` +
      `${mean(list.map((r) => r.imagesPerSecond)).toFixed(2)} img/s, test Dice ` +
      list.map((r) => r.dice.toFixed(4)).join(' / '),
  );
}
process.exit(0);
