/**
 * The worker job parameters of a version whatever its source: the U-Net trained here, an external
 * ONNX model (its copy in the version folder and its config), or imported predictions (nothing to
 * run: evaluation reads them from the project).
 */
import path from 'node:path';
import { ApiError } from '../../../shared/contract';
import type { EvaluationSplit, ModelCard } from '../../../shared/contract-ml';
import type { ProjectStore } from '../../project/store';
import type { EvaluateJobParams, PredictJobParams } from '../job-params';
import { EXTERNAL_MODEL_FILE, versionDir } from '../versions';

export function predictJobParams(
  store: ProjectStore,
  card: ModelCard,
  imageIds: number[] | null,
  passes = 1,
): PredictJobParams {
  const modelDir = versionDir(store, card.version);
  const source = card.source;
  switch (source.kind) {
    case 'trained':
      return {
        projectDir: store.dir,
        modelDir,
        size: card.architecture?.size ?? 0,
        imageIds,
        tile: card.input.mode === 'tile',
        passes,
        calibration: card.uncertaintyCalibration ?? null,
      };
    case 'onnx':
      return {
        projectDir: store.dir,
        modelDir,
        size: 0,
        imageIds,
        tile: false,
        // Test-time transforms suit the U-Net trained here; an external model's map is scored alone.
        passes: 1,
        calibration: null,
        external: { file: path.join(modelDir, EXTERNAL_MODEL_FILE), config: source.config },
      };
    case 'predictions':
      throw new ApiError(
        'bad-request',
        `${card.version} holds predictions imported from ${source.path}: there is no model to run (they are stored already)`,
      );
  }
}

/** Evaluation of an external version: its model run on the split, or its stored predictions. */
export function externalEvaluateParams(
  store: ProjectStore,
  card: ModelCard,
  split: EvaluationSplit,
  threshold: number,
): EvaluateJobParams {
  if (split === 'val')
    throw new ApiError(
      'bad-request',
      `${card.version} was not trained here, so it has no validation split: evaluate it on test, train, control or all`,
    );
  const base = {
    projectDir: store.dir,
    modelDir: versionDir(store, card.version),
    size: 0,
    split,
    threshold,
    tile: false,
    valFraction: 0,
    seed: 1,
    labels: card.data.labels,
  };
  const source = card.source;
  if (source.kind === 'onnx')
    return {
      ...base,
      external: {
        file: path.join(base.modelDir, EXTERNAL_MODEL_FILE),
        config: source.config,
      },
    };
  return { ...base, stored: card.version };
}
