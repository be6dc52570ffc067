/**
 * Dataset import, one file at a time: read and hash it, probe the image from its header, read its
 * mask through the formats registry's mask reader (or a SEG's masks), and say what was left out.
 */
import { createHash } from 'node:crypto';
import fs from 'node:fs';
import fsp from 'node:fs/promises';
import path from 'node:path';
import { promisify } from 'node:util';
import type { Split } from '../../shared/contract-review';
import { type ExistingImage, type ImageFileFacts } from '../project/datasets';
import { tagsOfFacts, type DicomTags } from '../project/dicom-tags';
import { encodeGray8, isStorableMaskPng } from '../project/mask-png';
import { isDicom, isDicomFileName, probeDicomForImport } from '../formats/dicom/decoder';
import { maskReaderFor, MaskSizeMismatchError, type ReferencedMasks } from '../formats';
import { probeImage, probeImageFile, type ImageInfo } from './decode';
import { describeFsError, specialFileKind } from '../fs-errors';

/** Files above this size are hashed as a stream and probed from disk instead of memory. */
const STREAM_THRESHOLD = 16 * 1024 * 1024;

export interface WorkItem {
  imagePath: string;
  relPath: string;
  name: string;
  split: Split;
  control: boolean;
  maskPath: string | null;
  maskRelPath: string | null;
  /** A DICOM file found among masks: read only if it is a SEG. */
  segmentationOnly: boolean;
}

export interface MaskResult {
  png: Buffer;
  width: number;
  height: number;
  foreground: number;
  sha256: string;
}

export interface ItemResult {
  item: WorkItem;
  facts: ImageFileFacts | null;
  /** Hash unchanged since the last import: facts were not re-read. */
  unchanged: boolean;
  mask: MaskResult | null;
  /** The mask file is the same as the ground truth in force. */
  maskUnchanged: boolean;
  /** Empty ground truth for a control with --controls-as-negative. */
  negativeMask: Buffer | null;
  skipped: { path: string; reason: string }[];
  warnings: { path: string; message: string }[];
  /** The DICOM tags the project keeps, for a DICOM image read now. */
  dicom: DicomTags | null;
  /** The file is a DICOM SEG: ground truth of the images it references, not an image. */
  segmentation: (ReferencedMasks & { sha256: string }) | null;
}

export function toRel(root: string, file: string): string {
  return path.relative(root, file).split(path.sep).join('/');
}

async function hashStream(file: string): Promise<string> {
  const hash = createHash('sha256');
  for await (const chunk of fs.createReadStream(file)) hash.update(chunk as Buffer);
  return hash.digest('hex');
}

// The callback forms: fs/promises' FileHandle path costs about twice the CPU per small file.
const statFile = promisify(fs.stat);
const readWholeFile = promisify(fs.readFile);

/**
 * Reads a file for hashing and probing: in memory when small, hashed as a stream when large.
 * Only regular files are read (a FIFO reached through a link would block the import forever).
 */
export async function readAndHash(
  file: string,
): Promise<{ bytes: Buffer | null; sha256: string; size: number }> {
  const stat = await statFile(file);
  if (stat.isDirectory()) throw new Error('a link to a folder (not followed)');
  if (!stat.isFile()) throw new Error(`not a regular file (${specialFileKind(stat) ?? 'unknown'})`);
  const { size } = stat;
  if (size === 0) throw new Error('empty file (0 bytes)');
  if (size > STREAM_THRESHOLD) return { bytes: null, sha256: await hashStream(file), size };
  const bytes = await readWholeFile(file);
  if (bytes.length === 0) throw new Error('empty file (0 bytes)');
  return { bytes, sha256: createHash('sha256').update(bytes).digest('hex'), size: bytes.length };
}

function probeFile(file: string, bytes: Buffer | null): Promise<ImageInfo> {
  return bytes ? probeImage(bytes) : probeImageFile(file);
}

export function reasonOf(error: unknown): string {
  if ((error as NodeJS.ErrnoException | null)?.code) return describeFsError(error);
  const message = error instanceof Error ? error.message : String(error);
  if (
    /unsupported image format|Input buffer contains unsupported|Input file contains unsupported/i.test(
      message,
    )
  ) {
    return 'not a readable image (unsupported or corrupt data)';
  }
  return message.replace(/\s+/g, ' ').trim();
}

/** A stored mask: the file itself when it is already an 8-bit gray 0/255 PNG, else re-encoded. */
async function readMask(
  file: string,
  root: string,
  expected: ImageInfo,
  maxPixels: number,
): Promise<{
  mask: MaskResult | null;
  skipped?: { path: string; reason: string };
  warning?: { path: string; message: string };
  sha256?: string;
}> {
  const rel = toRel(root, file);
  let bytes: Buffer;
  let sha256: string;
  try {
    const read = await readAndHash(file);
    bytes = read.bytes ?? (await fsp.readFile(file));
    sha256 = read.sha256;
  } catch (error) {
    return { mask: null, skipped: { path: rel, reason: `mask: ${reasonOf(error)}` } };
  }
  let decoded;
  try {
    const reader = maskReaderFor(file, bytes);
    // No reader: the same reason as an image no decoder reads (see reasonOf).
    if (reader?.pairing !== 'name') throw new Error('unsupported image format');
    // Sizes are compared from the header: a mask of another size is never decoded.
    decoded = await reader.read(bytes, { expected, maxPixels });
  } catch (error) {
    if (error instanceof MaskSizeMismatchError) {
      return {
        mask: null,
        skipped: {
          path: rel,
          reason: `mask is ${error.width}x${error.height} but its image is ${expected.width}x${expected.height}; image imported without ground truth`,
        },
        sha256,
      };
    }
    return { mask: null, skipped: { path: rel, reason: `mask: ${reasonOf(error)}` }, sha256 };
  }
  let png = bytes;
  const zeroOr255 = decoded.cleanValues && !decoded.oneValued;
  if (!(isStorableMaskPng(bytes) && zeroOr255))
    png = await encodeGray8(decoded.values, decoded.width, decoded.height);
  return {
    mask: {
      png,
      width: decoded.width,
      height: decoded.height,
      foreground: decoded.foreground,
      sha256,
    },
    warning: decoded.cleanValues
      ? undefined
      : {
          path: rel,
          message: 'mask has values other than {0,1} or {0,255}; binarised with > 0 as foreground',
        },
    sha256,
  };
}

/** Why an image of this size is not imported, or null when it fits the limit. */
function aboveLimit(info: ImageInfo, maxPixels: number): string | null {
  const pixels = info.width * info.height;
  if (pixels <= maxPixels) return null;
  return `image is ${info.width}x${info.height} (${(pixels / 1e6).toFixed(1)} megapixels), above the limit of ${maxPixels} pixels; raise it with --max-pixels if it is meant to be imported`;
}

export async function processItem(
  item: WorkItem,
  root: string,
  existing: ExistingImage | undefined,
  controlsAsNegative: boolean,
  maxPixels: number,
): Promise<ItemResult> {
  const result: ItemResult = {
    item,
    facts: null,
    unchanged: false,
    mask: null,
    maskUnchanged: false,
    negativeMask: null,
    skipped: [],
    warnings: [],
    dicom: null,
    segmentation: null,
  };
  let info: ImageInfo;
  try {
    const read = await readAndHash(item.imagePath);
    const { sha256, size } = read;
    // DICOM files are parsed whole (header and pixel extents) even when large.
    const bytes =
      read.bytes ?? (isDicomFileName(item.name) ? await fsp.readFile(item.imagePath) : null);
    if (existing && existing.sha256 === sha256) {
      result.unchanged = true;
      info = existing;
    } else if (bytes && isDicom(bytes)) {
      // Parsed once; a compressed frame is decoded once too, unless the image is above the pixel
      // limit (skipped below from its header), so data that do not decode are skipped here.
      const probe = await probeDicomForImport(bytes, { maxPixels });
      if (probe.kind === 'segmentation') {
        // Paired by the images it references, not by name: the registry's reader unpacks it.
        const reader = maskReaderFor(item.name, bytes);
        if (reader?.pairing !== 'reference') throw new Error('no mask reader reads this SEG');
        result.segmentation = { ...reader.readAll(bytes), sha256 };
        return result;
      }
      if (item.segmentationOnly) throw new Error('a DICOM image in a mask folder (not a SEG)');
      result.dicom = tagsOfFacts(probe.facts);
      if (probe.note) result.warnings.push({ path: item.relPath, message: probe.note });
      info = { ...probe, channels: 1, format: 'dicom' };
    } else if (item.segmentationOnly) {
      throw new Error('not a DICOM file');
    } else {
      info = await probeFile(item.imagePath, bytes);
    }
    // From the header alone: nothing this large is ever decoded, here or later.
    const tooLarge = aboveLimit(info, maxPixels);
    if (tooLarge) {
      result.skipped.push({ path: item.relPath, reason: tooLarge });
      return result;
    }
    const { width, height, bitDepth, channels, format } = info;
    result.facts = { width, height, bitDepth, channels, format, fileSize: size, sha256 };
  } catch (error) {
    result.skipped.push({ path: item.relPath, reason: reasonOf(error) });
    return result;
  }
  if (item.maskPath) {
    // The mask file is the ground truth in force and still fits the image: nothing to decode.
    if (existing?.groundTruthSha256) {
      const read = await readAndHash(item.maskPath).catch(() => null);
      const sameSize = existing.width === info.width && existing.height === info.height;
      if (read?.sha256 === existing.groundTruthSha256 && sameSize) {
        result.maskUnchanged = true;
        return result;
      }
    }
    const mask = await readMask(item.maskPath, root, info, maxPixels);
    if (mask.skipped) result.skipped.push(mask.skipped);
    if (mask.warning) result.warnings.push(mask.warning);
    result.mask = mask.mask;
  } else if (item.control && controlsAsNegative && !existing?.groundTruthId) {
    result.negativeMask = await emptyMask(info.width, info.height);
  }
  return result;
}

const emptyMasks = new Map<string, Promise<Buffer>>();

/** The empty 0/255 PNG of a size (controls of a dataset share a few sizes: encode each once). */
export function emptyMask(width: number, height: number): Promise<Buffer> {
  const key = `${width}x${height}`;
  let png = emptyMasks.get(key);
  if (!png) {
    png = encodeGray8(new Uint8Array(width * height), width, height);
    emptyMasks.set(key, png);
  }
  return png;
}
