/**
 * The project opened when the workstation starts without one: a folder under the user's data
 * directory, so a first start lands on something usable rather than an empty window.
 */
import fs from 'node:fs';
import path from 'node:path';

export const DEFAULT_PROJECT_FOLDER = 'demo-project';

export async function defaultProjectDir(baseDir: string): Promise<string> {
  const dir = path.join(baseDir, DEFAULT_PROJECT_FOLDER);
  await fs.promises.mkdir(dir, { recursive: true });
  return dir;
}
