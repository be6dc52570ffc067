import type { ESLint } from 'eslint';

/** The project's ESLint plugin: `qataseg/layers` and `qataseg/no-import-cycle`. */
declare const plugin: ESLint.Plugin;
export default plugin;
