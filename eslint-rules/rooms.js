// The room map the `qataseg/layers` rule checks (eslint.config.js passes it as the option).

/**
 * The rooms of src/ and what each may import (docs/ARCHITECTURE.md: layers). Core's rooms are
 * layers in this order: each imports only the rooms listed before it, never one after it. `files` are path
 * prefixes below src/ (a folder, or a file without its extension); the longest prefix wins.
 */
const shared = ['shared'];
const base = [...shared, 'core-base'];
const belowProject = [...base, 'formats'];
const belowDataset = [...belowProject, 'project'];
const belowMl = [...belowDataset, 'dataset'];
const belowExport = [...belowMl, 'ml'];
const belowHandlers = [...belowExport, 'export'];
// PACS sits beside export: it reads images in through the dataset import and sends SEGs that the
// formats write; only the handlers above reach it.
const belowPacs = belowHandlers;
// Team review (users, roles, reading plans, agreement, consensus) sits beside PACS: it reads and
// writes the project's labels and figures; only the handlers and the service above reach it.
const belowTeam = belowHandlers;
const belowService = [...belowHandlers, 'pacs', 'team', 'handlers'];
const allOfCore = [...belowService, 'service'];
export const srcRooms = {
  shared: { files: ['shared'], mayImport: [] },
  // Leaves every room may use: pure figures, progress and cancel, file and path helpers.
  'core-base': {
    files: [
      'core/math',
      'core/job-reporter',
      'core/guarded-files',
      'core/fs-errors',
      'core/app-package',
      'core/environment',
    ],
    mayImport: shared,
  },
  formats: { files: ['core/formats'], mayImport: base },
  project: { files: ['core/project'], mayImport: belowProject },
  dataset: { files: ['core/dataset'], mayImport: belowDataset },
  ml: { files: ['core/ml'], mayImport: belowMl },
  export: { files: ['core/export'], mayImport: belowExport },
  pacs: { files: ['core/pacs'], mayImport: belowPacs },
  team: { files: ['core/team'], mayImport: belowTeam },
  handlers: { files: ['core/handlers'], mayImport: [...belowHandlers, 'pacs', 'team'] },
  service: {
    files: ['core/service', 'core/jobs', 'core/default-project', 'core/demo-model'],
    mayImport: belowService,
  },
  worker: { files: ['worker'], mayImport: allOfCore },
  server: { files: ['server'], mayImport: allOfCore },
  cli: { files: ['cli'], mayImport: [...allOfCore, 'server'] },
  main: { files: ['main'], mayImport: [...allOfCore, 'server'] },
  preload: { files: ['preload'], mayImport: shared },
  renderer: { files: ['renderer'], mayImport: shared },
  launcher: { files: ['launcher'], mayImport: shared },
};
