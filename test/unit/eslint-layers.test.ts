// The layer rules of eslint.config.js fire on the imports docs/ARCHITECTURE.md forbids: fixture
// trees in a temp folder with one bad import each, linted with the project's room map, and the
// repository's own configuration on a real file given a bad import.
import fs from 'node:fs';
import path from 'node:path';
import { ESLint } from 'eslint';
import tseslint from 'typescript-eslint';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import qataseg from '../../eslint-rules/layers.js';
import { srcRooms } from '../../eslint-rules/rooms.js';
import { tempDir } from './project-fixtures';

const repoRoot = path.resolve(import.meta.dirname, '../..');

/** Writes `files` (path below the tree -> source) into a fresh temp folder. */
function writeTree(files: Record<string, string>): string {
  const root = tempDir('eslint-layers-');
  for (const [file, text] of Object.entries(files)) {
    fs.mkdirSync(path.dirname(path.join(root, file)), { recursive: true });
    fs.writeFileSync(path.join(root, file), text);
  }
  return root;
}

/** Lints the tree with only the two layer rules and the project's room map. */
async function lintTree(root: string): Promise<Map<string, { rule: string; message: string }[]>> {
  const eslint = new ESLint({
    cwd: root,
    overrideConfigFile: true,
    overrideConfig: [
      {
        files: ['**/*.ts'],
        languageOptions: { parser: tseslint.parser },
        plugins: { qataseg },
        rules: {
          'qataseg/layers': ['error', { root: 'src', rooms: srcRooms }],
          'qataseg/no-import-cycle': ['error', { root: 'src' }],
        },
      },
    ],
  });
  const results = await eslint.lintFiles(['src/**/*.ts']);
  return new Map(
    results.map((result) => [
      path.relative(root, result.filePath).split(path.sep).join('/'),
      result.messages.map((message) => ({ rule: message.ruleId ?? '', message: message.message })),
    ]),
  );
}

describe('qataseg/layers', () => {
  let found: Map<string, { rule: string; message: string }[]>;

  beforeAll(async () => {
    const root = writeTree({
      'src/shared/contract.ts': 'export type Id = number;\n',
      'src/core/math/split.ts': 'export const half = 0.5;\n',
      'src/core/project/store.ts': 'export interface ProjectStore { dir: string }\n',
      'src/core/ml/versions.ts': 'export const active = 1;\n',
      'src/core/export/exporter.ts': 'export const run = 1;\n',
      'src/core/service.ts': 'export interface ServiceContext { id: number }\n',
      'src/core/jobs.ts': 'export const jobs = 1;\n',
      'src/worker/jobs.ts': 'export const table = 1;\n',
      // Each of these breaks one boundary of the architecture doc.
      'src/core/formats/reads-project.ts':
        "import type { ProjectStore } from '../project/store';\nexport type S = ProjectStore;\n",
      'src/core/formats/reads-ml.ts': "export { active } from '../ml/versions';\n",
      'src/core/formats/reads-export.ts': "import { run } from '../export/exporter';\nrun;\n",
      'src/core/formats/reads-service.ts': "export type C = import('../service').ServiceContext;\n",
      'src/core/project/reads-ml.ts': "import { active } from '../ml/versions';\nactive;\n",
      'src/core/ml/reads-worker.ts': "import { table } from '../../worker/jobs';\ntable;\n",
      'src/core/dataset/reads-jobs.ts': "import { jobs } from '../jobs';\njobs;\n",
      // And these keep to it.
      'src/core/formats/fine.ts':
        "import { half } from '../math/split';\nimport type { Id } from '../../shared/contract';\nexport const x: Id = half;\n",
      'src/core/ml/fine.ts':
        "import type { ProjectStore } from '../project/store';\nexport type S = ProjectStore;\n",
      'src/worker/fine.ts': "import { active } from '../core/ml/versions';\nactive;\n",
    });
    found = await lintTree(root);
  });

  it.each([
    ['src/core/formats/reads-project.ts', 'formats may not import project'],
    ['src/core/formats/reads-ml.ts', 'formats may not import ml'],
    ['src/core/formats/reads-export.ts', 'formats may not import export'],
    ['src/core/formats/reads-service.ts', 'formats may not import service'],
    ['src/core/project/reads-ml.ts', 'project may not import ml'],
    ['src/core/ml/reads-worker.ts', 'ml may not import worker'],
    ['src/core/dataset/reads-jobs.ts', 'dataset may not import service'],
  ])('reports %s: %s', (file, words) => {
    const messages = found.get(file) ?? [];
    expect(messages).toHaveLength(1);
    expect(messages[0].rule).toBe('qataseg/layers');
    expect(messages[0].message).toContain(words);
  });

  it('lets a room import the layers below it', () => {
    for (const file of ['src/core/formats/fine.ts', 'src/core/ml/fine.ts', 'src/worker/fine.ts'])
      expect(found.get(file)).toEqual([]);
  });
});

describe('qataseg/no-import-cycle', () => {
  it('reports a cycle through type-only imports, naming its files', async () => {
    const root = writeTree({
      'src/core/ml/a.ts': "import type { B } from './b';\nexport interface A { b: B }\n",
      'src/core/ml/b.ts': "import type { C } from './c';\nexport interface B { c: C }\n",
      'src/core/ml/c.ts': "import type { A } from './a';\nexport interface C { a?: A }\n",
      'src/core/ml/d.ts': "import type { A } from './a';\nexport type D = A;\n",
    });
    const found = await lintTree(root);
    for (const file of ['a', 'b', 'c']) {
      const messages = found.get(`src/core/ml/${file}.ts`) ?? [];
      expect(messages.map((message) => message.rule)).toEqual(['qataseg/no-import-cycle']);
    }
    expect(found.get('src/core/ml/a.ts')?.[0].message).toContain(
      'core/ml/a.ts -> core/ml/b.ts -> core/ml/c.ts -> core/ml/a.ts',
    );
    // d.ts imports into the cycle but is not part of it.
    expect(found.get('src/core/ml/d.ts')).toEqual([]);
  });
});

describe("the repository's eslint.config.js", () => {
  let eslint: ESLint;
  beforeAll(() => {
    eslint = new ESLint({ cwd: repoRoot });
  });
  afterAll(() => undefined);

  /** Lints `file`'s own text with `extra` appended, as `npm run lint` would see the change. */
  async function lintWith(file: string, extra: string): Promise<string[]> {
    const text = fs.readFileSync(path.join(repoRoot, file), 'utf8') + extra;
    const [result] = await eslint.lintText(text, { filePath: path.join(repoRoot, file) });
    return result.messages.map((message) => `${message.ruleId}: ${message.message}`);
  }

  it('passes the real file as it is', async () => {
    expect(await lintWith('src/core/formats/coco.ts', '')).toEqual([]);
  });

  it('fails a format that reads the project', async () => {
    const messages = await lintWith(
      'src/core/formats/coco.ts',
      "\nexport type { ProjectStore } from '../project/store';\n",
    );
    expect(messages).toEqual([expect.stringContaining('qataseg/layers: formats may not import')]);
  });

  it('fails an import that closes a cycle', async () => {
    // nnunet.ts imports math/split.ts; split.ts importing it back closes a cycle (and a layer).
    const messages = await lintWith(
      'src/core/math/split.ts',
      "\nexport type { ExportImage } from '../formats/registry';\nexport { nnunetCase } from '../formats/nnunet';\n",
    );
    expect(messages).toContainEqual(
      expect.stringContaining(
        "qataseg/no-import-cycle: '../formats/nnunet' closes an import cycle: core/math/split.ts -> core/formats/nnunet.ts -> core/math/split.ts",
      ),
    );
  });
});
