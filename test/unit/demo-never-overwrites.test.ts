/**
 * `qataseg demo --out DIR` writes phantoms only where nothing else stands: a file of the same name
 * that is not this phantom (a real dataset's image) is never replaced; the same phantoms again
 * (same seed) are left as they are.
 */
import fs from 'node:fs';
import path from 'node:path';
import { describe, expect, it } from 'vitest';
import { generateDemoDataset } from '../../src/core/dataset/demo';
import { tempDir } from './project-fixtures';

describe('demo dataset', () => {
  it('never replaces a file it did not write, and regenerates the same phantoms in place', async () => {
    const out = tempDir('demo-out');
    await generateDemoDataset(out, { count: 3, size: 16, seed: 4 });
    const again = await generateDemoDataset(out, { count: 3, size: 16, seed: 4 });
    expect(again.train + again.test).toBe(3);

    const theirs = path.join(out, 'Train Set', 'Images', 'covid_1.png');
    fs.writeFileSync(theirs, 'a radiograph that is not ours');
    await expect(generateDemoDataset(out, { count: 3, size: 16, seed: 4 })).rejects.toThrow(
      /covid_1\.png already exists and is not this demo's file/,
    );
    expect(fs.readFileSync(theirs, 'utf8')).toBe('a radiograph that is not ours');
  });
});
