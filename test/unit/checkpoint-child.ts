/**
 * A training run in a process of its own, so a test can kill it in the middle of writing a
 * checkpoint or run it on a tiny filesystem. Usage: checkpoint-child.ts DIR MODE EPOCHS
 *   crash-in-second-checkpoint  SIGKILL itself while epoch 2's checkpoint is being written
 *   fill-disk-after-epoch-1     fill DIR's filesystem after epoch 1, so epoch 2's writes fail
 *   resume                      resume from DIR's checkpoint and finish
 * After each epoch's checkpoint it writes DIR/epoch-N.sha256 (the checkpoint's weights' hash).
 * Prints one JSON line: { epochs } or { error }.
 */
import { createHash } from 'node:crypto';
import fs from 'node:fs';
import path from 'node:path';
import { loadRuntime } from '../../src/core/ml/backends';
import { Random } from '../../src/core/math/random';
import { trainModel, type TrainItem } from '../../src/core/ml/trainer';
import { discScene } from './ml-fixtures';

const [dir, mode, epochs] = process.argv.slice(2);
const checkpointDir = path.join(dir, 'checkpoint');
const size = 32;

if (mode === 'crash-in-second-checkpoint') {
  // Dies as the optimizer of the second checkpoint is put in place: after its model was written.
  const rename = fs.renameSync;
  let optimizerWrites = 0;
  fs.renameSync = (from, to) => {
    if (path.basename(String(to)) === 'optimizer.bin' && ++optimizerWrites === 2) {
      process.kill(process.pid, 'SIGKILL');
    }
    rename(from, to);
  };
}

const sha256 = (file: string) => createHash('sha256').update(fs.readFileSync(file)).digest('hex');

async function main() {
  const engine = await loadRuntime('wasm');
  const random = new Random(11);
  const items: TrainItem[] = Array.from({ length: 6 }, (_, index) => {
    const scene = discScene(random, size, size);
    return { imageId: index + 1, image: scene.image, mask: scene.mask };
  });
  const result = await trainModel(
    {
      engine,
      config: {
        size,
        base: 4,
        batch: 3,
        epochs: Number(epochs),
        learningRate: 3e-3,
        seed: 5,
        loss: 'bce-dice',
        dropout: 0,
        augment: false,
      },
      train: items.slice(0, 4),
      val: items.slice(4),
      checkpointDir,
      resume: mode === 'resume',
    },
    {
      onEpoch: (progress) => {
        const epoch = progress.record.epoch;
        fs.writeFileSync(
          path.join(dir, `epoch-${epoch}.sha256`),
          sha256(path.join(checkpointDir, 'weights.bin')),
        );
        if (mode === 'fill-disk-after-epoch-1' && epoch === 1) {
          // Leave less room than one more copy of the weights needs.
          const weights = fs.statSync(path.join(checkpointDir, 'weights.bin')).size;
          const stats = fs.statfsSync(dir);
          const free = stats.bavail * stats.bsize;
          fs.writeFileSync(path.join(dir, 'filler'), Buffer.alloc(Math.max(0, free - weights / 2)));
        }
      },
    },
  );
  return { epochs: result.epochsRun };
}

// Exits explicitly: the wasm backend's threads would keep the process alive.
main().then(
  (outcome) => process.stdout.write(`${JSON.stringify(outcome)}\n`, () => process.exit(0)),
  (error: unknown) =>
    process.stdout.write(`${JSON.stringify({ error: String(error) })}\n`, () => process.exit(1)),
);
