/**
 * DICOM as an image source of the project: what the import probe, the image and thumbnail
 * routes and the ML worker ask of any decoder (header facts, a gray PNG at full depth, the 8-bit
 * pixels training sees), plus the DICOM facts the project keeps.
 */
import path from 'node:path';
import sharp from 'sharp';
import type { DicomDisplay } from '../../../shared/dicom-voi';
import { decodeDicomImage, defaultVoiPixels, imageProblem, type DicomImage } from './image';
import {
  dicomFacts,
  items,
  parseDicom,
  pixelDataBytes,
  SEGMENTATION_STORAGE,
  TAG,
  TRANSFER_SYNTAXES,
  us,
  type DicomFacts,
} from './parse';

export { isDicom } from './parse';

export const DICOM_EXTENSIONS = new Set(['.dcm', '.dicom']);

/** `.dcm`, `.dicom`, or (checked by the caller with `isDicom`) no extension at all. */
export function isDicomFileName(name: string): boolean {
  return DICOM_EXTENSIONS.has(path.extname(name).toLowerCase());
}

export interface DicomProbe {
  kind: 'image' | 'segmentation';
  width: number;
  height: number;
  bitDepth: 8 | 16;
  facts: DicomFacts;
}

/**
 * Header facts without decoding the pixels; throws with the reason when the file cannot be
 * imported (multi-frame, colour, undecodable transfer syntax, truncated).
 */
export function probeDicom(bytes: Uint8Array): DicomProbe {
  const parsed = parseDicom(bytes);
  const facts = dicomFacts(parsed);
  if (facts.sopClassUid === SEGMENTATION_STORAGE)
    return { kind: 'segmentation', width: facts.columns, height: facts.rows, bitDepth: 8, facts };
  const problem = imageProblem(facts, parsed);
  if (problem) throw new Error(problem);
  const pixels = pixelDataBytes(parsed);
  if (TRANSFER_SYNTAXES[facts.transferSyntax]?.codec === 'native') {
    const expected = (facts.rows * facts.columns * facts.bitsAllocated) / 8;
    if (pixels.length < expected)
      throw new Error(`truncated pixel data (${pixels.length} of ${expected} bytes)`);
  }
  const lutBits = items(parsed.dataset, TAG.ModalityLUTSequence)
    .map((item) => us(item, TAG.LUTDescriptor, 2))
    .find((bits) => bits !== null);
  const bits = lutBits ?? facts.bitsStored;
  return {
    kind: 'image',
    width: facts.columns,
    height: facts.rows,
    bitDepth: bits > 8 ? 16 : 8,
    facts,
  };
}

async function encodeGray(
  data: Uint8Array | Uint16Array,
  width: number,
  height: number,
  bitDepth: 8 | 16,
): Promise<Buffer> {
  const raw = Buffer.from(data.buffer, data.byteOffset, data.byteLength);
  const input = sharp(raw, {
    raw: { width, height, channels: 1, ...(bitDepth === 16 ? { depth: 'ushort' as const } : {}) },
  });
  return (bitDepth === 16 ? input.toColourspace('grey16') : input.toColourspace('b-w'))
    .png({ compressionLevel: 3 })
    .toBuffer();
}

/**
 * A gray PNG of the image: the Modality LUT's values at full depth (`display` says how to window
 * them), or with `depth` 8 the image under its default VOI, inverted for MONOCHROME1.
 */
export async function dicomToGrayPng(bytes: Uint8Array, depth?: 8 | 16): Promise<Buffer> {
  const image = await decodeDicomImage(bytes);
  if (depth === 8) return encodeGray(defaultVoiPixels(image), image.width, image.height, 8);
  const values = image.bitDepth === 8 ? Uint8Array.from(image.values) : image.values;
  return encodeGray(values, image.width, image.height, image.bitDepth);
}

/** The 8-bit pixels training and predictions see: the default VOI, MONOCHROME1 inverted. */
export async function dicomGray8(
  bytes: Uint8Array,
): Promise<{ data: Uint8Array; width: number; height: number }> {
  const image = await decodeDicomImage(bytes);
  return { data: defaultVoiPixels(image), width: image.width, height: image.height };
}

/** How the viewer windows the image's PNG values (presets in the file's order). */
export async function dicomDisplay(bytes: Uint8Array): Promise<DicomDisplay> {
  return (await decodeDicomImage(bytes)).display;
}

export type { DicomImage };
