/**
 * DICOM as an image decoder of the formats registry: what the import probe, the image and
 * thumbnail routes and the ML worker ask of any decoder (header facts, the values at full depth
 * with how to window them, the 8-bit pixels training sees), plus the DICOM facts the project keeps.
 */
import path from 'node:path';
import { presetInPngUnits } from '../../../shared/dicom-voi';
import type {
  DecodedImage,
  DecodeOptions,
  GrayImage,
  ImageDecoder,
  ImageHeader,
} from '../registry';
import { checkFrameDecodes, decodeDicomImage, defaultVoiPixels, imageProblem } from './image';
import {
  dicomFacts,
  isDicom,
  items,
  parseDicom,
  pixelDataBytes,
  SEGMENTATION_STORAGE,
  TAG,
  TRANSFER_SYNTAXES,
  us,
  type DicomFacts,
  type ParsedDicom,
} from './parse';

export { isDicom };

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
  /** What the import report should say about how the file was read (a gray image in colour). */
  note?: string;
}

/**
 * Header facts without decoding the pixels; throws with the reason when the file cannot be
 * imported (multi-frame, colour, undecodable transfer syntax, truncated).
 */
export function probeDicom(bytes: Uint8Array): DicomProbe {
  return probeParsed(parseDicom(bytes));
}

/** `probeDicom` of a file already parsed (a deflated one is inflated by each parse). */
function probeParsed(parsed: ParsedDicom): DicomProbe {
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

/**
 * `probeDicom` for the import: a compressed image's frame is also decoded once, so pixel data that
 * do not decode are skipped at import with the reason rather than failing in the viewer. An
 * image above `maxPixels` is never decoded (the import skips it from the header). The file is
 * parsed once (a deflated one would be inflated by every parse).
 */
export async function probeDicomForImport(
  bytes: Uint8Array,
  { maxPixels = Infinity }: { maxPixels?: number } = {},
): Promise<DicomProbe> {
  const parsed = parseDicom(bytes);
  const probe = probeParsed(parsed);
  if (probe.kind !== 'image' || probe.width * probe.height > maxPixels) return probe;
  await checkFrameDecodes(parsed, probe.facts);
  const { photometric, samplesPerPixel } = probe.facts;
  return samplesPerPixel === 1
    ? probe
    : {
        ...probe,
        note: `stored in colour (${photometric}) with equal samples: imported as a grayscale image`,
      };
}

function header(bytes: Uint8Array): ImageHeader {
  const probe = probeDicom(bytes);
  if (probe.kind !== 'image') throw new Error('a DICOM SEG, not an image');
  return {
    width: probe.width,
    height: probe.height,
    bitDepth: probe.bitDepth,
    channels: 1,
    format: 'dicom',
  };
}

/** The 8-bit pixels training and predictions see: the default VOI, MONOCHROME1 inverted. */
async function decodeDefaultVoi(bytes: Uint8Array): Promise<GrayImage> {
  const image = await decodeDicomImage(bytes);
  return { data: defaultVoiPixels(image), width: image.width, height: image.height, bitDepth: 8 };
}

/**
 * The Modality LUT's values at full depth, with how to window them (`metadata.display`; the
 * window presets also as plain linear windows in the values' units); with `depth` 8 the image
 * under its default VOI.
 */
async function decode(bytes: Uint8Array, options?: DecodeOptions): Promise<DecodedImage> {
  if (options?.depth === 8) return decodeDefaultVoi(bytes);
  const image = await decodeDicomImage(bytes);
  const { display, facts } = image;
  return {
    data: image.bitDepth === 8 ? Uint8Array.from(image.values) : image.values,
    width: image.width,
    height: image.height,
    bitDepth: image.bitDepth,
    metadata: {
      ...(facts.pixelSpacing ? { pixelSpacing: facts.pixelSpacing } : {}),
      windows: display.presets.map((preset) => ({
        name: preset.name,
        ...presetInPngUnits(display, preset),
      })),
      display,
    },
  };
}

export const dicomDecoder: ImageDecoder = {
  id: 'dicom',
  label: 'DICOM',
  extensions: [...DICOM_EXTENSIONS],
  sniff: isDicom,
  sniffFirst: true,
  readHeader: async (bytes) => header(bytes),
  decode,
  decode8: decodeDefaultVoi,
};
