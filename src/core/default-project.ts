/**
 * The project opened when the workstation starts without one: a folder under the user's data
 * directory holding a generated demo dataset, so a first start lands on something to review
 * rather than an empty window.
 */
import fs from 'node:fs';
import path from 'node:path';
import { createDemoProject } from './dataset/demo';
import { ProjectStore } from './project/store';

export const DEFAULT_PROJECT_FOLDER = 'demo-project';

export async function defaultProjectDir(baseDir: string): Promise<string> {
  const dir = path.join(baseDir, DEFAULT_PROJECT_FOLDER);
  await fs.promises.mkdir(dir, { recursive: true });
  return dir;
}

/**
 * Generates and imports the demo dataset into `projectDir` when the project has no images yet;
 * a project that already has images is left as it is. Returns whether it generated one.
 */
export async function ensureDemoProject(
  projectDir: string,
  onProgress?: (done: number, total: number | null) => void,
): Promise<boolean> {
  const store = ProjectStore.open(projectDir);
  const empty = store.counts().imageCount === 0;
  store.close();
  if (!empty) return false;
  const controller = new AbortController();
  await createDemoProject(
    projectDir,
    { count: 120, seed: 1, size: 224 },
    {
      signal: controller.signal,
      progress: (update) => {
        if (update.done !== undefined) onProgress?.(update.done, update.total ?? null);
      },
    },
  );
  return true;
}
