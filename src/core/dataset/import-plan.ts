/**
 * Dataset import's plan: the image files of the folder's layout with their mask files (paired by
 * name), SEGs among the masks (paired later by reference), and what is skipped or orphaned.
 */
import fsp from 'node:fs/promises';
import path from 'node:path';
import { findImageDecoder, maskReaderForName } from '../formats';
import {
  isImageFileName,
  listFiles,
  maskCandidates,
  type ImageGroup,
  type SkippedEntry,
} from './layout';
import { toRel, type WorkItem } from './import-read';

/** Bytes enough for every registered decoder to recognise its format. */
const SNIFF_BYTES = 4096;

/** A file without an extension whose first bytes a decoder recognises (DICOM's DICM preamble). */
async function isSniffedImage(file: string): Promise<boolean> {
  let handle: fsp.FileHandle | undefined;
  try {
    handle = await fsp.open(file, 'r');
    const head = Buffer.alloc(SNIFF_BYTES);
    const { bytesRead } = await handle.read(head, 0, SNIFF_BYTES, 0);
    return findImageDecoder(head.subarray(0, bytesRead)) !== null;
  } catch {
    return false;
  } finally {
    await handle?.close();
  }
}

/** An image file by its extension, or a file without one whose content a decoder recognises. */
async function isImportable(file: string): Promise<boolean> {
  if (isImageFileName(file)) return true;
  return path.extname(file) === '' && isSniffedImage(file);
}

/** Lists the work: image files with their mask file, and what is skipped or orphaned up front. */
export async function planImport(
  root: string,
  groups: ImageGroup[],
  maskPattern: string | null,
  scanSkipped: SkippedEntry[],
) {
  const items: WorkItem[] = [];
  const skipped: { path: string; reason: string }[] = [];
  // A folder listed twice (as images and as masks, or by the scan) is reported once.
  const reported = new Set<string>();
  const report = (entries: SkippedEntry[]) => {
    for (const entry of entries) {
      const rel = toRel(root, entry.path);
      if (reported.has(rel)) continue;
      reported.add(rel);
      skipped.push({ path: rel, reason: entry.reason });
    }
  };
  report(scanSkipped);
  let orphanMasks = 0;
  const claimedMasks = new Set<string>();
  const maskFolders = new Map<string, Map<string, string>>();
  const masksOf = async (dir: string) => {
    let files = maskFolders.get(dir);
    if (!files) {
      const listing = await listFiles(dir, false);
      report(listing.skipped);
      files = new Map(listing.files.map((f) => [path.basename(f).toLowerCase(), f]));
      maskFolders.set(dir, files);
    }
    return files;
  };
  const seen = new Set<string>();
  for (const group of groups) {
    const listing = await listFiles(group.imagesDir, group.recursive);
    report(listing.skipped);
    const files = listing.files;
    const sameFolder = group.masksDir === group.imagesDir;
    // A nested folder of studies keeps each image's mask beside it, in its own folder.
    const maskDirOf = (file: string) =>
      sameFolder && group.recursive ? path.dirname(file) : group.masksDir;
    const importable = new Set<string>();
    for (const file of files) if (await isImportable(file)) importable.add(file);
    // In a flat folder, files that are some image's mask are not images themselves.
    const maskOfImage = new Map<string, string>();
    for (const file of importable) {
      const dir = maskDirOf(file);
      if (!dir) continue;
      const masks = await masksOf(dir);
      for (const candidate of maskCandidates(path.basename(file), maskPattern, !sameFolder)) {
        const match = masks.get(candidate.toLowerCase());
        if (match && match !== file) {
          maskOfImage.set(file, match);
          break;
        }
      }
    }
    const masksInFolder = sameFolder ? new Set(maskOfImage.values()) : new Set<string>();
    for (const file of files) {
      if (seen.has(file)) continue;
      seen.add(file);
      if (masksInFolder.has(file)) continue;
      const relPath = toRel(root, file);
      if (!importable.has(file)) {
        skipped.push({ path: relPath, reason: 'not an image file' });
        continue;
      }
      const maskPath = maskOfImage.get(file) ?? null;
      if (maskPath) claimedMasks.add(maskPath);
      items.push({
        imagePath: file,
        relPath,
        name: path.basename(file),
        split: group.split,
        control: group.control,
        maskPath,
        maskRelPath: maskPath ? toRel(root, maskPath) : null,
        segmentationOnly: false,
      });
    }
  }
  for (const [dir, files] of maskFolders) {
    // Flat or nested folder: unclaimed files are images.
    if (groups.some((g) => g.imagesDir === dir || (g.recursive && g.masksDir === g.imagesDir)))
      continue;
    for (const file of files.values()) {
      if (claimedMasks.has(file)) continue;
      const relPath = toRel(root, file);
      // A file among the masks that pairs by reference (a DICOM SEG) is ground truth by the image
      // it references; one without an extension is read if its bytes are an image's or a SEG's.
      const byReference = maskReaderForName(file)?.pairing === 'reference';
      if (byReference || (path.extname(file) === '' && (await isSniffedImage(file)))) {
        items.push({
          imagePath: file,
          relPath,
          name: path.basename(file),
          split: 'unassigned',
          control: false,
          maskPath: null,
          maskRelPath: null,
          segmentationOnly: true,
        });
      } else if (isImageFileName(file)) orphanMasks++;
      else skipped.push({ path: relPath, reason: 'not an image file' });
    }
  }
  return { items, skipped, orphanMasks };
}
