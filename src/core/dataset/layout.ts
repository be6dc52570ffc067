/**
 * Finds where a dataset keeps its images and masks. Recognises QaTa-COV19 v1 (`Images/` beside
 * `Ground-truths/`), v2 (`Train Set/` and `Test Set/`, each with both), the control groups
 * (`Control_Group_I/`, `Control_Group_II/`: images without masks), the LViT layout (`img/` beside
 * `labelcol/`, in `Train_Folder/`, `Val_Folder/`, `Test_Folder/`), and as a last resort a flat
 * folder of images (or, with none at its top, a nested folder of studies). Folder names match
 * case-insensitively; nothing is ever written here.
 *
 * What cannot be listed or opened by name is reported, never fatal and never dropped in silence:
 * an unreadable folder, a FIFO, socket or device, a name that is not UTF-8 (`skipped`).
 */
import { isDicomFileName } from '../formats/dicom/decoder';
import fs from 'node:fs/promises';
import path from 'node:path';
import type { Split } from '../../shared/contract-review';
import { hasImageExtension, imageExtensions } from '../formats';
import { describeFsError, specialFileKind } from '../fs-errors';

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

/** An entry left out of a listing, with why (absolute path). */
export interface SkippedEntry {
  path: string;
  reason: string;
}

export interface LayoutScan {
  layout: string;
  groups: ImageGroup[];
  /** Folders that could not be read, entries that could not be named. */
  skipped: SkippedEntry[];
}

interface Entry {
  name: string;
  kind: 'folder' | 'file' | 'link';
}

/**
 * A folder's entries. Names are read as bytes: one that is not UTF-8 cannot be opened through the
 * string it decodes to, so it is reported with its bytes; so are FIFOs, sockets and devices (read,
 * a FIFO would block the import). A folder that cannot be read is one skipped entry.
 */
async function readEntries(dir: string): Promise<{ entries: Entry[]; skipped: SkippedEntry[] }> {
  const skipped: SkippedEntry[] = [];
  let listed;
  try {
    listed = await fs.readdir(dir, { withFileTypes: true, encoding: 'buffer' });
  } catch (error) {
    return {
      entries: [],
      skipped: [{ path: dir, reason: `folder cannot be read: ${describeFsError(error)}` }],
    };
  }
  const entries: Entry[] = [];
  for (const entry of listed) {
    const raw = entry.name;
    const name = raw.toString('utf8');
    if (!Buffer.from(name, 'utf8').equals(raw)) {
      const bytes = [...raw].map((byte) => byte.toString(16).padStart(2, '0')).join(' ');
      skipped.push({
        path: path.join(dir, name),
        reason: `the name is not valid UTF-8 (bytes ${bytes}); rename it to import it`,
      });
      continue;
    }
    if (entry.isDirectory()) entries.push({ name, kind: 'folder' });
    else if (entry.isFile()) entries.push({ name, kind: 'file' });
    else if (entry.isSymbolicLink()) entries.push({ name, kind: 'link' });
    else {
      const kind = specialFileKind(entry) ?? 'not a file or a folder';
      skipped.push({ path: path.join(dir, name), reason: `not a regular file (${kind})` });
    }
  }
  return { entries, skipped };
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
  const skipped: SkippedEntry[] = [];
  const visit = async (dir: string, depth: number): Promise<void> => {
    const listing = await readEntries(dir);
    skipped.push(...listing.skipped);
    const names = listing.entries
      .filter((entry) => entry.kind === 'folder' && !entry.name.startsWith('.'))
      .map((entry) => entry.name);
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
    // With no image at its top, a folder of studies (patient/study/series/files, as PACS exports
    // and DICOM media lay them out): every file below it.
    const top = await fs.readdir(root, { withFileTypes: true });
    const imagesAtTop = top.some((e) => e.isFile() && isImageFileName(e.name));
    groups.push({
      imagesDir: root,
      masksDir: root,
      split: 'unassigned',
      control: false,
      recursive: !imagesAtTop && top.some((e) => e.isDirectory() && !e.name.startsWith('.')),
      kind: 'folder',
    });
  }
  groups.sort((a, b) => a.imagesDir.localeCompare(b.imagesDir));
  const kinds = [...new Set(groups.map((g) => g.kind))].sort();
  return { layout: kinds.join('+'), groups, skipped };
}

/**
 * Files (and links, checked when opened) of a directory, optionally recursive, as absolute paths,
 * sorted; with what could not be listed.
 */
export async function listFiles(
  dir: string,
  recursive: boolean,
): Promise<{ files: string[]; skipped: SkippedEntry[] }> {
  const files: string[] = [];
  const skipped: SkippedEntry[] = [];
  const walk = async (current: string): Promise<void> => {
    const listing = await readEntries(current);
    skipped.push(...listing.skipped);
    for (const entry of listing.entries) {
      const full = path.join(current, entry.name);
      if (entry.kind === 'folder') {
        if (recursive && !entry.name.startsWith('.')) await walk(full);
      } else files.push(full);
    }
  };
  await walk(dir);
  return { files: files.sort(), skipped };
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

/** What the import made of the candidates: images imported, other files skipped. */
export interface ImportOutcome {
  imported: number;
  skipped: number;
}

/**
 * Why an import found no image/mask pair, saying what it looked for: the folders and file types
 * when it found no image, else where and under which names it looked for the masks (for DICOM
 * images also a SEG that references them; never the image's own name, which is the image).
 */
export function emptyImportMessage(
  root: string,
  groups: readonly ImageGroup[],
  images: readonly { name: string; control: boolean }[],
  maskPattern: string | null,
  outcome?: ImportOutcome,
): string {
  const extensions = imageExtensions().join(', ');
  if (images.length === 0) {
    return (
      'no images found: looked for folders named Images/ or img/ (QaTa-COV19, LViT; also inside ' +
      `Train Set/, Test Set/ and the like, up to ${MAX_DEPTH} levels down) and Control_Group_*/, ` +
      `else image files (${extensions}) directly in ${root}`
    );
  }
  const folder = (dir: string) => `${path.relative(root, dir) || '.'}/`;
  const maskDirs = [
    ...new Set(groups.filter((g) => !g.control && g.masksDir).map((g) => folder(g.masksDir!))),
  ];
  const example = images.find((image) => !image.control) ?? images[0];
  const dicom = isDicomFileName(example.name);
  const names = maskCandidates(example.name, maskPattern, maskDirs.length > 0)
    .filter((name) => name !== example.name)
    .join(' or ');
  const where =
    maskDirs.length > 0
      ? `in ${maskDirs.join(', ')}`
      : 'in a mask folder beside the images (Ground-truths/, labelcol/, masks/, labels/, gt/)';
  const plural = (n: number, word: string) => `${n} ${n === 1 ? word : `${word}s`}`;
  const count = outcome
    ? `imported ${plural(outcome.imported, 'image')}` +
      (outcome.skipped > 0 ? ` (${plural(outcome.skipped, 'other file')} skipped, listed)` : '')
    : `found ${plural(images.length, 'image')}`;
  const seg = dicom ? ', and no DICOM SEG in the dataset references them' : '';
  return (
    `no image/mask pairs: ${count} but no mask ${where} named as the importer expects ` +
    `(for ${example.name}: ${names}${maskPattern ? '' : '; set a mask name pattern if yours differ'})${seg}`
  );
}
