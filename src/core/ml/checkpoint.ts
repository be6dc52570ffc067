/**
 * The training loop's resumable state, kept beside the checkpointed model and optimizer. Free of
 * tfjs so the host can read it (models.list shows how far an unfinished run got).
 */
import fs from 'node:fs';
import path from 'node:path';

export interface EpochRecord {
  epoch: number;
  loss: number;
  valDice: number | null;
  seconds: number;
  imagesPerSecond: number;
}

export interface CheckpointState {
  /** Epochs completed. */
  epoch: number;
  history: EpochRecord[];
  bestEpoch: number;
  bestValDice: number | null;
  trainSeconds: number;
  trainedImages: number;
}

export const CHECKPOINT_STATE = 'state.json';

export function readCheckpointState(checkpointDir: string): CheckpointState | null {
  const file = path.join(checkpointDir, CHECKPOINT_STATE);
  if (!fs.existsSync(file)) return null;
  return JSON.parse(fs.readFileSync(file, 'utf8')) as CheckpointState;
}
