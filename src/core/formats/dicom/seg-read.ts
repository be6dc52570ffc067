/**
 * Reads a DICOM Segmentation (PS3.3 A.51) as ground truth: each frame's source image (Derivation
 * Image Sequence of its per-frame functional group, else the one instance the SEG references),
 * every segment of a frame merged into one binary mask per referenced image. BINARY frames are
 * bit-packed without padding between frames; FRACTIONAL ones count as foreground above half.
 */
import type { DataSet } from 'dicom-parser';
import {
  dicomFacts,
  items,
  parseDicom,
  pixelDataBytes,
  SEGMENTATION_STORAGE,
  TAG,
  text,
  TRANSFER_SYNTAXES,
  transferSyntaxName,
  us,
} from './parse';

const SEGMENTATION_TYPE = 'x00620001';
const MAXIMUM_FRACTIONAL_VALUE = 'x00620014';
const SHARED_FUNCTIONAL_GROUPS = 'x52009229';

export interface SegmentationMasks {
  sopInstanceUid: string;
  rows: number;
  columns: number;
  /** One 0/255 mask per referenced SOP Instance UID. */
  masks: Map<string, Uint8Array>;
}

function referencedInstances(dataset: DataSet): string[] {
  const uids: string[] = [];
  for (const series of items(dataset, TAG.ReferencedSeriesSequence))
    for (const instance of items(series, TAG.ReferencedInstanceSequence))
      uids.push(text(instance, TAG.ReferencedSOPInstanceUID));
  return uids.filter(Boolean);
}

/** The source image of each frame (null where the SEG does not say). */
function frameSources(dataset: DataSet, frames: number): (string | null)[] {
  const groups = items(dataset, TAG.PerFrameFunctionalGroupsSequence);
  const shared = items(dataset, SHARED_FUNCTIONAL_GROUPS);
  const fallback = referencedInstances(dataset);
  return Array.from({ length: frames }, (_, f) => {
    const group = groups[f] ?? shared[0];
    for (const derivation of group ? items(group, TAG.DerivationImageSequence) : [])
      for (const source of items(derivation, TAG.SourceImageSequence)) {
        const uid = text(source, TAG.ReferencedSOPInstanceUID);
        if (uid) return uid;
      }
    return fallback.length === 1 ? fallback[0] : null;
  });
}

/** The SOP Instance UIDs a SEG's frames reference, read without unpacking its pixels. */
export function segmentationReferences(bytes: Uint8Array): string[] {
  const parsed = parseDicom(bytes);
  const facts = dicomFacts(parsed);
  if (facts.sopClassUid !== SEGMENTATION_STORAGE) throw new Error('not a DICOM SEG');
  const uids = frameSources(parsed.dataset, facts.frames).filter((uid) => uid !== null);
  return [...new Set(uids)];
}

export function readSegmentation(bytes: Uint8Array): SegmentationMasks {
  const parsed = parseDicom(bytes);
  const facts = dicomFacts(parsed);
  if (facts.sopClassUid !== SEGMENTATION_STORAGE) throw new Error('not a DICOM SEG');
  if (TRANSFER_SYNTAXES[facts.transferSyntax]?.codec !== 'native')
    throw new Error(
      `SEG in transfer syntax ${facts.transferSyntax} (${transferSyntaxName(facts.transferSyntax)}) cannot be read`,
    );
  const { rows, columns, frames } = facts;
  const pixels = rows * columns;
  const data = pixelDataBytes(parsed);
  const fractional = text(parsed.dataset, SEGMENTATION_TYPE).toUpperCase() === 'FRACTIONAL';
  const bits = facts.bitsAllocated;
  if (fractional ? bits !== 8 : bits !== 1)
    throw new Error(`SEG with Bits Allocated ${bits} for ${fractional ? 'FRACTIONAL' : 'BINARY'}`);
  const needed = fractional ? pixels * frames : Math.ceil((pixels * frames) / 8);
  if (data.length < needed)
    throw new Error(`truncated SEG pixel data (${data.length} of ${needed} bytes)`);
  const half = (us(parsed.dataset, MAXIMUM_FRACTIONAL_VALUE) ?? 255) / 2;
  const masks = new Map<string, Uint8Array>();
  const sources = frameSources(parsed.dataset, frames);
  sources.forEach((uid, f) => {
    if (!uid) return;
    let mask = masks.get(uid);
    if (!mask) {
      mask = new Uint8Array(pixels);
      masks.set(uid, mask);
    }
    const base = f * pixels;
    for (let i = 0; i < pixels; i++) {
      const on = fractional
        ? data[base + i] > half
        : (data[(base + i) >> 3] >> ((base + i) & 7)) & 1;
      if (on) mask[i] = 255;
    }
  });
  if (masks.size === 0) throw new Error('SEG references no source image');
  return { sopInstanceUid: facts.sopInstanceUid, rows, columns, masks };
}
