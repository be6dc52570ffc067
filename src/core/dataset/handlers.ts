/** Handlers of the dataset room's contract methods (src/shared/contract-dataset.ts). */
import { ApiError } from '../../shared/contract';
import { importReportSchema } from '../../shared/dataset-schemas';
import { listDatasets } from '../project/datasets';
import type { HandlerGroup } from '../service';
import { DatasetFolderError, importDataset, resolveDatasetRoot } from './import';

/** Projects with an import running: a second one at the same time would race on the same rows. */
const importing = new Set<string>();

export const datasetHandlers: HandlerGroup = {
  'dataset.import': async (input, context) => {
    const store = context.project();
    if (importing.has(store.dir)) {
      throw new ApiError('conflict', 'an import is already running in this project');
    }
    // A missing folder is the caller's mistake: say so now rather than as a failed job.
    try {
      await resolveDatasetRoot(input.root, store.dir);
    } catch (error) {
      if (error instanceof DatasetFolderError) throw new ApiError('bad-request', error.message);
      throw error;
    }
    importing.add(store.dir);
    return context.jobs.start('import', async (reporter) => {
      try {
        return await importDataset(store, input, reporter);
      } finally {
        importing.delete(store.dir);
        if (context.projectOrNull() === store) {
          context.emit('project.changed', context.projectState());
          context.emit('images.changed', { reason: 'import' });
        }
      }
    });
  },
  'dataset.list': (_input, context) =>
    listDatasets(context.project().db).map((dataset) => {
      const report = importReportSchema.safeParse(dataset.report);
      return { ...dataset, report: report.success ? report.data : null };
    }),
};
