/** Handlers of the dataset room's contract methods (src/shared/contract-dataset.ts). */
import { ApiError } from '../../shared/contract';
import { importReportSchema } from '../../shared/dataset-schemas';
import { listDatasets } from '../project/datasets';
import type { HandlerGroup } from './context';
import { DatasetFolderError, importDataset, resolveDatasetRoot } from '../dataset/import';

export const datasetHandlers: HandlerGroup = {
  // One import per project at a time: a second one would race on the same rows.
  'dataset.import': (input, context) => {
    const store = context.project();
    return context.jobs.startExclusive(
      `import:${store.dir}`,
      `an import of ${input.root}`,
      'import',
      async () => {
        // A missing folder is the caller's mistake: say so now rather than as a failed job.
        try {
          await resolveDatasetRoot(input.root, store.dir);
        } catch (error) {
          if (error instanceof DatasetFolderError) throw new ApiError('bad-request', error.message);
          throw error;
        }
        return async (reporter) => {
          try {
            return await importDataset(store, input, reporter);
          } finally {
            if (context.projectOrNull() === store) {
              context.emit('project.changed', context.projectState());
              context.emit('images.changed', { reason: 'import' });
            }
          }
        };
      },
    );
  },
  'dataset.list': (_input, context) =>
    listDatasets(context.project().db).map((dataset) => {
      const report = importReportSchema.safeParse(dataset.report);
      return { ...dataset, report: report.success ? report.data : null };
    }),
};
