/**
 * DICOM pixel data to what the rest of the project shows and trains on, in the standard's order
 * (PS3.3 C.11): stored value -> Modality LUT (Rescale Slope/Intercept, or a Modality LUT
 * Sequence) -> VOI (window pairs with their VOI LUT Function, or VOI LUT Sequence tables) ->
 * MONOCHROME1 inverted last.
 *
 * The full range is kept: `values` are the Modality LUT's input (or output, for a LUT sequence)
 * shifted to 0..65535, linear in the modality value, and `display` says how to window them.
 */
import {
  displayLut,
  type DicomDisplay,
  type VoiFunction,
  type VoiPreset,
} from '../../../shared/dicom-voi';
import {
  decodeJpeg2000,
  decodeJpegBaseline,
  decodeJpegExtended,
  decodeJpegLossless,
  decodeJpegLs,
  decodeRle,
  type FrameGeometry,
} from './codecs';
import {
  decimal,
  decimals,
  dicomFacts,
  EXPLICIT_BIG_ENDIAN,
  items,
  parseDicom,
  pixelDataBytes,
  SEGMENTATION_STORAGE,
  TAG,
  text,
  texts,
  TRANSFER_SYNTAXES,
  transferSyntaxName,
  us,
  valueBytes,
  type DicomFacts,
  type ParsedDicom,
  type PixelCodec,
} from './parse';
import dicomParser, { type DataSet } from 'dicom-parser';
import { sopClassPhrase } from './sop-classes';

/**
 * Why this project cannot import the file as an image, or null when it can: what the object is
 * (its SOP class by name) and what keeps it out, in words.
 */
export function imageProblem(facts: DicomFacts, parsed: ParsedDicom): string | null {
  const what = sopClassPhrase(facts.sopClassUid);
  if (facts.sopClassUid === SEGMENTATION_STORAGE) return 'a DICOM SEG, not an image';
  if (!parsed.dataset.elements[TAG.PixelData])
    return `${what}, not an image (it holds no pixel data)`;
  if (facts.frames > 1)
    return `${what} of ${facts.frames} frames: only single-frame images are imported`;
  const wordSized = facts.bitsAllocated === 8 || facts.bitsAllocated === 16;
  if (!isGray(facts) && !(mayBeGrayInColour(facts) && wordSized))
    return `${what} in colour (${facts.photometric || 'no photometric interpretation'}, ${facts.samplesPerPixel} samples per pixel): only grayscale images are imported`;
  if (!wordSized)
    return `${what} of ${facts.bitsAllocated}-bit pixels: only 8- and 16-bit images are imported`;
  if (facts.bitsStored < 1 || facts.bitsStored > facts.bitsAllocated)
    return `${what} whose Bits Stored ${facts.bitsStored} does not fit Bits Allocated ${facts.bitsAllocated}`;
  if (facts.rows < 1 || facts.columns < 1) return `${what} without Rows or Columns`;
  const syntax = TRANSFER_SYNTAXES[facts.transferSyntax];
  if (!syntax?.codec)
    return `${what} in ${transferSyntaxName(facts.transferSyntax)} (${facts.transferSyntax}), which this project cannot decode`;
  return null;
}

const isGray = (facts: DicomFacts): boolean =>
  facts.samplesPerPixel === 1 && /^MONOCHROME[12]$/.test(facts.photometric);

/**
 * A colour image that may be a grayscale one (an X-ray scanned or exported as RGB/YBR): it is
 * imported as gray when its samples turn out equal. YBR_FULL_422 is subsampled when native, so
 * only its compressed (decoded to RGB) form qualifies.
 */
export function mayBeGrayInColour(facts: DicomFacts): boolean {
  if (facts.samplesPerPixel !== 3) return false;
  const codec = TRANSFER_SYNTAXES[facts.transferSyntax]?.codec;
  const stored = codec === 'native' || codec === 'rle';
  if (facts.photometric === 'RGB' || facts.photometric === 'YBR_FULL') return true;
  return !stored && /^YBR_(FULL_422|ICT|RCT)$/.test(facts.photometric);
}

/** How far apart a colour image's samples may be and still count as one gray (2 of 256). */
export function colourTolerance(bitsStored: number): number {
  return Math.max(2, 2 ** (bitsStored - 7));
}

/**
 * One gray sample per pixel from a colour frame whose samples are (nearly) equal: R of RGB, Y of
 * YBR_FULL (whose Cb and Cr then sit at the middle). Throws the colour reason when they are not.
 */
function grayOfColour(words: Uint8Array, facts: DicomFacts, layout: ColourLayout): Uint8Array {
  const pixels = facts.rows * facts.columns;
  const bytes = facts.bitsAllocated / 8;
  const word = (i: number): number =>
    bytes === 2 ? words[2 * i] | (words[2 * i + 1] << 8) : words[i];
  const at = (pixel: number, sample: number): number =>
    word(layout.planar ? sample * pixels + pixel : 3 * pixel + sample);
  const middle = 2 ** (facts.bitsStored - 1);
  let spread = 0;
  const out = new Uint8Array(pixels * bytes);
  for (let p = 0; p < pixels; p++) {
    const first = at(p, 0);
    const a = at(p, 1);
    const b = at(p, 2);
    spread = layout.ybr
      ? Math.max(spread, Math.abs(a - middle), Math.abs(b - middle))
      : Math.max(spread, Math.abs(a - first), Math.abs(b - first));
    if (bytes === 2) {
      out[2 * p] = first & 0xff;
      out[2 * p + 1] = first >> 8;
    } else out[p] = first;
  }
  if (spread > colourTolerance(facts.bitsStored))
    throw new Error(
      `${sopClassPhrase(facts.sopClassUid)} in colour (${facts.photometric}, 3 samples per pixel, which differ by up to ${spread}): only grayscale images are imported`,
    );
  return out;
}

interface ColourLayout {
  /** Samples plane by plane rather than interleaved. */
  planar: boolean;
  /** Samples are Y, Cb, Cr (as stored) rather than R, G, B (as a JPEG decoder returns them). */
  ybr: boolean;
}

/** The frame's gray words (Bits Allocated each, little endian), decompressed when encapsulated. */
async function frameWords(parsed: ParsedDicom, facts: DicomFacts): Promise<Uint8Array> {
  const codec = TRANSFER_SYNTAXES[facts.transferSyntax]?.codec;
  const words = await frameSamples(parsed, facts);
  if (facts.samplesPerPixel === 1) return words;
  const stored = codec === 'native' || codec === 'rle';
  return grayOfColour(words, facts, {
    planar: codec === 'rle' || (codec === 'native' && facts.planar),
    ybr: stored && facts.photometric === 'YBR_FULL',
  });
}

/** Every sample of the frame (Bits Allocated each, little endian), decompressed when encapsulated. */
async function frameSamples(parsed: ParsedDicom, facts: DicomFacts): Promise<Uint8Array> {
  const codec = TRANSFER_SYNTAXES[facts.transferSyntax]?.codec;
  const pixels = facts.rows * facts.columns;
  const bytes = pixelDataBytes(parsed);
  const expected = (pixels * facts.samplesPerPixel * facts.bitsAllocated) / 8;
  if (codec === 'native') {
    if (bytes.length < expected)
      throw new Error(`truncated pixel data (${bytes.length} of ${expected} bytes)`);
    return facts.transferSyntax === EXPLICIT_BIG_ENDIAN && facts.bitsAllocated === 16
      ? swapWords(bytes.subarray(0, expected))
      : bytes;
  }
  const encoded = bytes;
  let words: Uint8Array;
  try {
    words = await decodeFrame(codec, encoded, facts);
  } catch (error) {
    // Codec messages (wasm decoders, libjpeg) mean nothing to the person importing.
    throw new Error(
      `${sopClassPhrase(facts.sopClassUid)} whose ${transferSyntaxName(facts.transferSyntax)} pixel data cannot be decoded (damaged or unsupported compressed data)`,
      { cause: error },
    );
  }
  if (words.length < expected)
    throw new Error(
      `${sopClassPhrase(facts.sopClassUid)} whose ${transferSyntaxName(facts.transferSyntax)} pixel data cannot be decoded (damaged compressed data: ${words.length} of ${expected} bytes)`,
    );
  return words;
}

const frameGeometry = (facts: DicomFacts): FrameGeometry => ({
  width: facts.columns,
  height: facts.rows,
  bitsAllocated: facts.bitsAllocated,
  bitsStored: facts.bitsStored,
  signed: facts.signed,
});

/** One compressed frame to its words, by the codec of its transfer syntax. */
async function decodeFrame(
  codec: PixelCodec | undefined,
  encoded: Uint8Array,
  facts: DicomFacts,
): Promise<Uint8Array> {
  const pixels = facts.rows * facts.columns;
  let words: Uint8Array;
  switch (codec) {
    case 'rle':
      words = decodeRle(encoded, pixels, facts.bitsAllocated, facts.samplesPerPixel);
      break;
    case 'jpeg-baseline':
      words = await decodeJpegBaseline(encoded, facts.samplesPerPixel);
      break;
    case 'jpeg-extended':
      words = await decodeJpegExtended(encoded, frameGeometry(facts));
      break;
    case 'jpeg-lossless':
      words = await decodeJpegLossless(encoded, frameGeometry(facts));
      break;
    case 'jpeg-ls':
      words = await decodeJpegLs(encoded);
      break;
    case 'jpeg-2000':
      words = await decodeJpeg2000(encoded);
      break;
    default:
      throw new Error(`transfer syntax ${facts.transferSyntax} cannot be decoded`);
  }
  return words;
}

/**
 * Decodes the frame of a compressed image once, so that the import lists pixel data that do not
 * decode among the skipped files (with the reason) instead of the viewer failing later.
 */
export async function checkFrameDecodes(parsed: ParsedDicom, facts: DicomFacts): Promise<void> {
  const native = TRANSFER_SYNTAXES[facts.transferSyntax]?.codec === 'native';
  if (native && facts.samplesPerPixel === 1) return;
  await frameWords(parsed, facts);
}

/** 16-bit words from big endian to little endian order, in a copy (the file's bytes stay). */
function swapWords(bytes: Uint8Array): Uint8Array {
  const out = new Uint8Array(bytes.length);
  for (let i = 0; i + 1 < bytes.length; i += 2) {
    out[i] = bytes[i + 1];
    out[i + 1] = bytes[i];
  }
  return out;
}

/** Stored values: Bits Stored below High Bit, sign-extended when Pixel Representation is 1. */
export function storedValues(words: Uint8Array, facts: DicomFacts): Int32Array {
  const pixels = facts.rows * facts.columns;
  const out = new Int32Array(pixels);
  const shift = facts.highBit + 1 - facts.bitsStored;
  const mask = 2 ** facts.bitsStored - 1;
  const signBit = 2 ** (facts.bitsStored - 1);
  const range = 2 ** facts.bitsStored;
  const sixteen = facts.bitsAllocated === 16;
  for (let i = 0; i < pixels; i++) {
    const word = sixteen ? words[2 * i] | (words[2 * i + 1] << 8) : words[i];
    let value = (word >> shift) & mask;
    if (facts.signed && value & signBit) value -= range;
    out[i] = value;
  }
  return out;
}

interface LutTable {
  firstMapped: number;
  bits: number;
  data: number[];
}

/**
 * A LUT item (Modality or VOI): descriptor [entries (0 = 65536), first mapped, bits] + data.
 * The first mapped value is SS when its input can be negative; implicit VR files leave the VR
 * unsaid and it arrives as US, so `signedInput` says how to read 32768..65535.
 */
function lutTable(item: DataSet, signedInput: boolean): LutTable | null {
  const descriptor = [0, 1, 2].map((i) => us(item, TAG.LUTDescriptor, i));
  if (descriptor.some((v) => v === null)) return null;
  const [count, first, bits] = descriptor as number[];
  const entries = count === 0 ? 65536 : count;
  const firstMapped = signedInput && first >= 32768 ? first - 65536 : first;
  const bytes = valueBytes(item, TAG.LUTData);
  if (!bytes) return null;
  const view = new DataView(bytes.buffer, bytes.byteOffset, bytes.byteLength);
  // LUT Data is OW (or US): in the data set's byte order.
  const littleEndian = item.byteArrayParser !== dicomParser.bigEndianByteArrayParser;
  const data = Array.from({ length: bytes.byteLength >> 1 }, (_, i) =>
    view.getUint16(2 * i, littleEndian),
  );
  if (data.length < entries || bits < 1 || bits > 16) return null;
  return { firstMapped, bits, data: data.slice(0, entries) };
}

function voiFunction(dataset: DataSet): VoiFunction {
  const fn = text(dataset, TAG.VOILUTFunction).toUpperCase();
  return fn === 'SIGMOID' || fn === 'LINEAR_EXACT' ? fn : 'LINEAR';
}

/** Every VOI the file offers, window pairs first (the first pair is the default). */
export function voiPresets(dataset: DataSet, signedInput: boolean): VoiPreset[] {
  const presets: VoiPreset[] = [];
  const centers = decimals(dataset, TAG.WindowCenter);
  const widths = decimals(dataset, TAG.WindowWidth);
  const names = texts(dataset, TAG.WindowCenterWidthExplanation);
  const fn = voiFunction(dataset);
  for (let i = 0; i < Math.min(centers.length, widths.length); i++) {
    if (!(widths[i] > 0) || (fn === 'LINEAR' && widths[i] < 1)) continue;
    presets.push({
      kind: 'window',
      name: names[i] || `Window ${i + 1}`,
      center: centers[i],
      width: widths[i],
      fn,
    });
  }
  items(dataset, TAG.VOILUTSequence).forEach((item, i) => {
    const table = lutTable(item, signedInput);
    if (table)
      presets.push({
        kind: 'table',
        name: text(item, TAG.LUTExplanation) || `VOI LUT ${i + 1}`,
        ...table,
      });
  });
  return presets;
}

export interface DicomImage {
  facts: DicomFacts;
  width: number;
  height: number;
  /** Values 0..2^bitDepth-1, linear in the modality value (see `display`). */
  values: Uint16Array;
  /** 8 when every value fits a byte, else 16. */
  bitDepth: 8 | 16;
  display: DicomDisplay;
}

/** Decodes a single-frame grayscale DICOM image through the Modality LUT. */
export async function decodeDicomImage(bytes: Uint8Array): Promise<DicomImage> {
  const parsed = parseDicom(bytes);
  const facts = dicomFacts(parsed);
  const problem = imageProblem(facts, parsed);
  if (problem) throw new Error(problem);
  const stored = storedValues(await frameWords(parsed, facts), facts);
  const ds = parsed.dataset;
  const values = new Uint16Array(stored.length);
  let slope: number;
  let intercept: number;
  let maxPossible: number;
  const modalityLut = items(ds, TAG.ModalityLUTSequence)
    .map((item) => lutTable(item, facts.signed))
    .find((t) => t !== null);
  if (modalityLut) {
    // The LUT's output is the modality value; it is at most 16 bits, so it is the PNG value.
    const last = modalityLut.data.length - 1;
    for (let i = 0; i < stored.length; i++) {
      const index = Math.min(last, Math.max(0, stored[i] - modalityLut.firstMapped));
      values[i] = modalityLut.data[index];
    }
    slope = 1;
    intercept = 0;
    maxPossible = 2 ** modalityLut.bits - 1;
  } else {
    const minStored = facts.signed ? -(2 ** (facts.bitsStored - 1)) : 0;
    for (let i = 0; i < stored.length; i++) values[i] = stored[i] - minStored;
    slope = decimal(ds, TAG.RescaleSlope) || 1;
    intercept = (decimal(ds, TAG.RescaleIntercept) ?? 0) + slope * minStored;
    maxPossible = 2 ** facts.bitsStored - 1;
  }
  const modalityCanBeNegative = Math.min(intercept, slope * maxPossible + intercept) < 0;
  let presets = voiPresets(ds, modalityCanBeNegative);
  if (presets.length === 0) presets = [fullRangePreset(values, slope, intercept)];
  return {
    facts,
    width: facts.columns,
    height: facts.rows,
    values,
    bitDepth: maxPossible <= 255 ? 8 : 16,
    display: { slope, intercept, invert: facts.photometric === 'MONOCHROME1', presets },
  };
}

/** Without a VOI in the file: a linear window over the values the image actually uses. */
function fullRangePreset(values: Uint16Array, slope: number, intercept: number): VoiPreset {
  let min = Infinity;
  let max = -Infinity;
  for (let i = 0; i < values.length; i++) {
    if (values[i] < min) min = values[i];
    if (values[i] > max) max = values[i];
  }
  const low = Math.min(slope * min + intercept, slope * max + intercept);
  const high = Math.max(slope * min + intercept, slope * max + intercept);
  return {
    kind: 'window',
    name: 'Full range',
    center: (low + high) / 2,
    width: Math.max(high - low, 1e-6),
    fn: 'LINEAR_EXACT',
  };
}

/** The 8-bit image under the default VOI, inverted for MONOCHROME1: what training sees. */
export function defaultVoiPixels(image: DicomImage): Uint8Array {
  const maxValue = image.bitDepth === 8 ? 255 : 65535;
  const lut = displayLut(image.display, image.display.presets[0], maxValue);
  const out = new Uint8Array(image.values.length);
  for (let i = 0; i < out.length; i++) out[i] = lut[image.values[i]];
  return out;
}
