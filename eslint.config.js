// Flat config: typed rules everywhere, plus the room boundaries of docs/ARCHITECTURE.md.
import js from '@eslint/js';
import tseslint from 'typescript-eslint';
import reactHooks from 'eslint-plugin-react-hooks';
import globals from 'globals';
import qataseg from './eslint-rules/layers.js';
import { srcRooms } from './eslint-rules/rooms.js';

const electronOutsideMainAndPreload = {
  name: 'electron',
  message: 'Only src/main and src/preload may import electron (docs/ARCHITECTURE.md: rooms).',
};
const coreFromRenderer = {
  group: ['**/core/**', '@core/**'],
  message: 'The renderer talks only to window.api; it never imports core.',
};
const mainFromElsewhere = {
  group: ['**/main/**', '**/preload/**'],
  message: 'Only the Electron bootstrap may import main/preload.',
};

export default tseslint.config(
  {
    ignores: [
      'node_modules/**',
      'out/**',
      'dist/**',
      'test-results/**',
      'playwright-report/**',
      'bench/results/**',
      'bin/**',
      'scripts/**',
      'eslint.config.js',
      'eslint-rules/**',
    ],
  },
  js.configs.recommended,
  ...tseslint.configs.recommendedTypeChecked,
  {
    languageOptions: {
      parserOptions: {
        projectService: true,
        tsconfigRootDir: import.meta.dirname,
      },
      globals: { ...globals.node },
    },
    rules: {
      '@typescript-eslint/no-unused-vars': [
        'error',
        { argsIgnorePattern: '^_', varsIgnorePattern: '^_' },
      ],
      '@typescript-eslint/consistent-type-imports': 'error',
      '@typescript-eslint/no-floating-promises': 'error',
      '@typescript-eslint/require-await': 'off',
      '@typescript-eslint/no-misused-promises': [
        'error',
        { checksVoidReturn: { attributes: false } },
      ],
    },
  },
  {
    files: ['src/**/*.ts', 'src/**/*.tsx', 'test/**/*.ts', 'test/**/*.tsx', 'bench/**/*.ts'],
    ignores: ['src/main/**', 'src/preload/**', 'test/e2e/electron*.ts'],
    rules: {
      'no-restricted-imports': ['error', { paths: [electronOutsideMainAndPreload] }],
    },
  },
  {
    files: ['src/core/**', 'src/shared/**', 'src/worker/**', 'src/server/**', 'src/cli/**'],
    rules: {
      'no-restricted-imports': [
        'error',
        { paths: [electronOutsideMainAndPreload], patterns: [mainFromElsewhere] },
      ],
    },
  },
  {
    files: ['src/renderer/**/*.ts', 'src/renderer/**/*.tsx', 'test/renderer/**'],
    languageOptions: { globals: { ...globals.browser } },
    plugins: { 'react-hooks': reactHooks },
    rules: {
      ...reactHooks.configs.recommended.rules,
      'no-restricted-imports': [
        'error',
        {
          paths: [electronOutsideMainAndPreload],
          patterns: [coreFromRenderer, mainFromElsewhere],
        },
      ],
    },
  },
  {
    files: ['src/**/*.ts', 'src/**/*.tsx'],
    plugins: { qataseg },
    rules: { 'qataseg/layers': ['error', { root: 'src', rooms: srcRooms }] },
  },
  {
    // No import cycles anywhere in src/, the renderer included (type-only imports count).
    files: ['src/**/*.ts', 'src/**/*.tsx'],
    plugins: { qataseg },
    rules: { 'qataseg/no-import-cycle': ['error', { root: 'src' }] },
  },
);
