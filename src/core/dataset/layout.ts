/**
 * Finds where a dataset keeps its images and masks. Recognises QaTa-COV19 v1 (`Images/` beside
 * `Ground-truths/`), v2 (`Train Set/` and `Test Set/`, each with both), the control groups
 * (`Control_Group_I/`, `Control_Group_II/`: images without masks), the LViT layout (`img/` beside
 * `labelcol/`, in `Train_Folder/`, `Val_Folder/`, `Test_Folder/`), and as a last resort a flat
 * folder of images. Folder names match case-insensitively; nothing is ever written here.
 */
import fs from 'node:fs/promises';
import path from 'node:path';
import type { Split } from '../../shared/contract-review';
import { hasImageExtension } from '../formats';

const IMAGE_DIR = /^(images?|img)$/i;
const MASK_DIRS = [/^ground[-_ ]?truths?$/i, /^labelcol$/i, /^masks?$/i, /^labels?$/i, /^gt$/i];
const CONTROL_GROUP = /^control[-_ ]?group[-_ ]?(i+|\d+)$/i;
const MAX_DEPTH = 4;

export type LayoutKind = 'qata-v1' | 'qata-v2' | 'lvit' | 'control-groups' | 'folder';

export interface ImageGroup {
  /** Absolute folder holding the images. */
  imagesDir: string;
  /** Absolute folder holding their masks, or null (control groups). */
  masksDir: string | null;
  split: Split;
  control: boolean;
  /** Look in sub-folders too (control groups may nest). */
  recursive: boolean;
  kind: LayoutKind;
}

export interface LayoutScan {
  layout: string;
  groups: ImageGroup[];
}

async function subdirectories(dir: string): Promise<string[]> {
  const entries = await fs.readdir(dir, { withFileTypes: true });
  return entries.filter((e) => e.isDirectory() && !e.name.startsWith('.')).map((e) => e.name);
}

/** The split a folder path implies: its segments below the root name it (Test Set, Train_Folder). */
export function splitFromPath(relativeDir: string): Split {
  const segments = relativeDir.split(/[\\/]/).filter(Boolean);
  for (const segment of segments.reverse()) {
    if (CONTROL_GROUP.test(segment) || /^control[-_ ]?group/i.test(segment)) return 'control';
    if (/test/i.test(segment)) return 'test';
    if (/train|val/i.test(segment)) return 'train';
  }
  return 'unassigned';
}

function kindOf(root: string, imagesDir: string, imagesName: string): LayoutKind {
  if (/^img$/i.test(imagesName)) return 'lvit';
  const relative = path.relative(root, path.dirname(imagesDir));
  if (/(^|[\\/])(train|test)[ _-]?set$/i.test(relative)) return 'qata-v2';
  return relative === '' ? 'qata-v1' : 'folder';
}

export async function scanLayout(root: string): Promise<LayoutScan> {
  const groups: ImageGroup[] = [];
  const visit = async (dir: string, depth: number): Promise<void> => {
    const names = await subdirectories(dir);
    const maskDirOf = (imagesName: string): string | null => {
      const preferred = /^img$/i.test(imagesName) ? [/^labelcol$/i, ...MASK_DIRS] : MASK_DIRS;
      for (const pattern of preferred) {
        const match = names.find((name) => pattern.test(name));
        if (match) return path.join(dir, match);
      }
      return null;
    };
    for (const name of names) {
      const full = path.join(dir, name);
      if (CONTROL_GROUP.test(name)) {
        groups.push({
          imagesDir: full,
          masksDir: null,
          split: 'control',
          control: true,
          recursive: true,
          kind: 'control-groups',
        });
      } else if (IMAGE_DIR.test(name)) {
        const masksDir = maskDirOf(name);
        const relative = path.relative(root, dir);
        const split = splitFromPath(relative);
        groups.push({
          imagesDir: full,
          masksDir,
          split,
          control: split === 'control',
          recursive: false,
          kind: split === 'control' ? 'control-groups' : kindOf(root, full, name),
        });
      } else if (!MASK_DIRS.some((pattern) => pattern.test(name)) && depth < MAX_DEPTH) {
        await visit(full, depth + 1);
      }
    }
  };
  await visit(root, 0);
  if (groups.length === 0) {
    // A plain folder of images; masks (if any) sit beside them and are told apart by the pattern.
    groups.push({
      imagesDir: root,
      masksDir: root,
      split: 'unassigned',
      control: false,
      recursive: false,
      kind: 'folder',
    });
  }
  groups.sort((a, b) => a.imagesDir.localeCompare(b.imagesDir));
  const kinds = [...new Set(groups.map((g) => g.kind))].sort();
  return { layout: kinds.join('+'), groups };
}

/** Files (not folders) of a directory, optionally recursive, as absolute paths, sorted. */
export async function listFiles(dir: string, recursive: boolean): Promise<string[]> {
  const out: string[] = [];
  const walk = async (current: string): Promise<void> => {
    const entries = await fs.readdir(current, { withFileTypes: true });
    for (const entry of entries) {
      const full = path.join(current, entry.name);
      if (entry.isDirectory()) {
        if (recursive && !entry.name.startsWith('.')) await walk(full);
      } else if (entry.isFile() || entry.isSymbolicLink()) out.push(full);
    }
  };
  await walk(dir);
  return out.sort();
}

/** A file whose extension a registered image decoder claims. */
export function isImageFileName(name: string): boolean {
  return hasImageExtension(path.basename(name));
}

/**
 * Mask file names to try for an image: the pattern (`{name}` = file name, `{stem}` = without
 * extension), default `mask_{name}`; with the default, `mask_{stem}.png` and (when masks live
 * in their own folder) `{name}` and `{stem}.png` as fallbacks.
 */
export function maskCandidates(
  imageName: string,
  pattern: string | null,
  separateFolder: boolean,
): string[] {
  const stem = imageName.slice(0, imageName.length - path.extname(imageName).length);
  const fill = (p: string) => p.replaceAll('{name}', imageName).replaceAll('{stem}', stem);
  if (pattern) return [fill(pattern)];
  const names = [fill('mask_{name}'), fill('mask_{stem}.png')];
  if (separateFolder) names.push(imageName, `${stem}.png`);
  return [...new Set(names)];
}
