/**
 * The first start of a project says what to do next while no image has a prediction of the
 * active model: with no model, Train then Predict; with one, Predict. While a first model trains
 * it says no more than what follows (the demo predicts by itself). Until then the prediction
 * actions of the editor are disabled with the same reason (editor/registry.ts
 * `predictionUnavailable`).
 */
import { useEffect, useState } from 'react';
import { api } from '../api';
import { useAppStore } from '../store';

export function FirstStartBanner({ onOpenTraining }: { onOpenTraining: () => void }) {
  const project = useAppStore((state) => state.project);
  const imageCount = project?.imageCount ?? 0;
  const modelCount = project?.modelCount ?? 0;
  const running = useAppStore((state) => {
    const kinds = Object.values(state.jobs)
      .filter((job) => job.state === 'running')
      .map((job) => job.kind);
    return kinds.includes('predict') ? 'predict' : kinds.includes('train') ? 'train' : null;
  });
  // null: not asked yet (or asking failed: then no banner rather than a wrong one).
  const [predicted, setPredicted] = useState<boolean | null>(null);

  // Predictions decide, not the model count: a project can hold imported predictions.
  useEffect(() => {
    if (imageCount === 0) return;
    let stale = false;
    const ask = () =>
      api['images.list']({ limit: 1, filter: { hasPrediction: true } }).then(
        (page) => !stale && setPredicted(page.total > 0),
        () => !stale && setPredicted(null),
      );
    void ask();
    const off = api.on('images.changed', (change) => {
      if (change.reason === 'prediction' || change.reason === 'import') void ask();
    });
    return () => {
      stale = true;
      off();
    };
  }, [imageCount, modelCount]);

  if (imageCount === 0 || predicted !== false) return null;
  return (
    <div className="first-start" role="status" data-testid="first-start-banner">
      {running === 'predict' ? (
        <span>
          <b>Predicting</b> (progress above): the worklist fills its Dice, area and uncertainty as
          it goes.
        </span>
      ) : running === 'train' && modelCount === 0 ? (
        <span>
          <b>Training a first model</b> (progress above). Predictions to review come next: the demo
          project predicts its images by itself when training ends; in another project this banner
          then shows how to run Predict.
        </span>
      ) : modelCount === 0 ? (
        <span>
          <b>No model yet</b>, so there are no predictions to review. <b>1. Train</b> a model
          (Training… → Start training), then <b>2. Predict</b> (Training… → Predict all images).
          Until then the prediction tools (Add pred., Accept pred., Keep, threshold) are off.
        </span>
      ) : (
        <span>
          <b>A model is ready but nothing is predicted yet</b>: <b>Predict</b> (Training… → Predict
          all images) to fill the worklist's Dice, area and uncertainty.
        </span>
      )}
      <button type="button" data-testid="first-start-open-training" onClick={onOpenTraining}>
        Open Training
      </button>
    </div>
  );
}
