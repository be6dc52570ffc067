/** SHA-256 over every file's bytes and every entry's name below a folder: what a fault must not change. */
import { createHash } from 'node:crypto';
import fs from 'node:fs';
import path from 'node:path';

export function treeHash(dir: string): string {
  const hash = createHash('sha256');
  const entries = fs
    .readdirSync(dir, { recursive: true, withFileTypes: true })
    .map((entry) => ({ entry, full: path.join(entry.parentPath, entry.name) }))
    .sort((a, b) => a.full.localeCompare(b.full));
  for (const { entry, full } of entries) {
    hash.update(`${path.relative(dir, full)}\0${entry.isDirectory() ? 'dir' : 'file'}\0`);
    if (entry.isFile()) hash.update(fs.readFileSync(full));
  }
  return hash.digest('hex');
}
