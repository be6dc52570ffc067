/**
 * Reads DICOM Part 10 files with dicom-parser (Cornerstone's: no copy of the pixel data, a few
 * hundred microseconds for a header, truncation reported as a buffer overrun): the File Meta
 * Information, the data set (implicit or explicit little endian, deflated through zlib), and the
 * facts this project uses from it. Only the tags the project shows or needs for references ever
 * leave this module (see `DicomFacts`). Writing is dcmjs's job (./write.ts).
 */
import dicomParser, { type DataSet } from 'dicom-parser';
import { createHash } from 'node:crypto';
import zlib from 'node:zlib';
import { DEFAULT_MAX_IMAGE_PIXELS } from '../../../shared/dataset-schemas';
import { sopClassPhrase } from './sop-classes';

export const TAG = {
  SOPClassUID: 'x00080016',
  SOPInstanceUID: 'x00080018',
  StudyDate: 'x00080020',
  Modality: 'x00080060',
  PatientID: 'x00100020',
  ImagerPixelSpacing: 'x00181164',
  ViewPosition: 'x00185101',
  StudyInstanceUID: 'x0020000d',
  SeriesInstanceUID: 'x0020000e',
  SamplesPerPixel: 'x00280002',
  PhotometricInterpretation: 'x00280004',
  PlanarConfiguration: 'x00280006',
  NumberOfFrames: 'x00280008',
  Rows: 'x00280010',
  Columns: 'x00280011',
  PixelSpacing: 'x00280030',
  BitsAllocated: 'x00280100',
  BitsStored: 'x00280101',
  HighBit: 'x00280102',
  PixelRepresentation: 'x00280103',
  WindowCenter: 'x00281050',
  WindowWidth: 'x00281051',
  RescaleIntercept: 'x00281052',
  RescaleSlope: 'x00281053',
  WindowCenterWidthExplanation: 'x00281055',
  VOILUTFunction: 'x00281056',
  ModalityLUTSequence: 'x00283000',
  LUTDescriptor: 'x00283002',
  LUTExplanation: 'x00283003',
  LUTData: 'x00283006',
  VOILUTSequence: 'x00283010',
  ReferencedSeriesSequence: 'x00081115',
  ReferencedInstanceSequence: 'x0008114a',
  ReferencedSOPInstanceUID: 'x00081155',
  SegmentSequence: 'x00620002',
  PerFrameFunctionalGroupsSequence: 'x52009230',
  DerivationImageSequence: 'x00089124',
  SourceImageSequence: 'x00082112',
  PixelData: 'x7fe00010',
  TransferSyntaxUID: 'x00020010',
} as const;

export const SEGMENTATION_STORAGE = '1.2.840.10008.5.1.4.1.1.66.4';
export const SECONDARY_CAPTURE_STORAGE = '1.2.840.10008.5.1.4.1.1.7';

/** How the pixel data of a transfer syntax is decoded (null: this project cannot). */
export type PixelCodec =
  | 'native'
  | 'rle'
  | 'jpeg-baseline'
  | 'jpeg-extended'
  | 'jpeg-lossless'
  | 'jpeg-ls'
  | 'jpeg-2000'
  | null;

export const TRANSFER_SYNTAXES: Record<string, { name: string; codec: PixelCodec }> = {
  '1.2.840.10008.1.2': { name: 'Implicit VR Little Endian', codec: 'native' },
  '1.2.840.10008.1.2.1': { name: 'Explicit VR Little Endian', codec: 'native' },
  '1.2.840.10008.1.2.1.99': { name: 'Deflated Explicit VR Little Endian', codec: 'native' },
  '1.2.840.10008.1.2.2': { name: 'Explicit VR Big Endian (retired)', codec: 'native' },
  '1.2.840.10008.1.2.5': { name: 'RLE Lossless', codec: 'rle' },
  '1.2.840.10008.1.2.4.50': { name: 'JPEG Baseline (Process 1)', codec: 'jpeg-baseline' },
  '1.2.840.10008.1.2.4.51': { name: 'JPEG Extended (Process 2 & 4)', codec: 'jpeg-extended' },
  '1.2.840.10008.1.2.4.57': {
    name: 'JPEG Lossless, Non-Hierarchical (Process 14)',
    codec: 'jpeg-lossless',
  },
  '1.2.840.10008.1.2.4.70': {
    name: 'JPEG Lossless, Non-Hierarchical, First-Order Prediction (Process 14 [Selection Value 1])',
    codec: 'jpeg-lossless',
  },
  '1.2.840.10008.1.2.4.80': { name: 'JPEG-LS Lossless', codec: 'jpeg-ls' },
  '1.2.840.10008.1.2.4.81': { name: 'JPEG-LS Lossy (Near-Lossless)', codec: 'jpeg-ls' },
  '1.2.840.10008.1.2.4.90': { name: 'JPEG 2000 (Lossless Only)', codec: 'jpeg-2000' },
  '1.2.840.10008.1.2.4.91': { name: 'JPEG 2000', codec: 'jpeg-2000' },
  '1.2.840.10008.1.2.4.201': { name: 'High-Throughput JPEG 2000 (Lossless Only)', codec: null },
  '1.2.840.10008.1.2.4.203': { name: 'High-Throughput JPEG 2000', codec: null },
};

export function transferSyntaxName(uid: string): string {
  return TRANSFER_SYNTAXES[uid]?.name ?? 'unknown transfer syntax';
}

export const IMPLICIT_LITTLE_ENDIAN = '1.2.840.10008.1.2';
export const EXPLICIT_LITTLE_ENDIAN = '1.2.840.10008.1.2.1';
export const EXPLICIT_BIG_ENDIAN = '1.2.840.10008.1.2.2';

/** A Part 10 file: 128-byte preamble, then "DICM". */
export function hasPart10Prefix(bytes: Uint8Array): boolean {
  return (
    bytes.length >= 132 &&
    bytes[128] === 0x44 &&
    bytes[129] === 0x49 &&
    bytes[130] === 0x43 &&
    bytes[131] === 0x4d
  );
}

const isUpper = (byte: number): boolean => byte >= 0x41 && byte <= 0x5a;

/**
 * The transfer syntax of a data set written without the Part 10 preamble and meta header (older
 * systems wrote them so), told from its first element: a tag of group 0008 (or 0002...0010, in
 * either byte order) followed by two capitals (an explicit VR) or a length (implicit VR, which is
 * always little endian). Null when the bytes do not start like a data set.
 */
export function rawDatasetSyntax(bytes: Uint8Array): string | null {
  if (bytes.length < 8) return null;
  const groupLittle = bytes[0] | (bytes[1] << 8);
  const groupBig = (bytes[0] << 8) | bytes[1];
  const plausible = (group: number): boolean =>
    group >= 0x0002 && group <= 0x0010 && group % 2 === 0;
  const explicitVr = isUpper(bytes[4]) && isUpper(bytes[5]);
  if (plausible(groupLittle)) return explicitVr ? EXPLICIT_LITTLE_ENDIAN : IMPLICIT_LITTLE_ENDIAN;
  if (plausible(groupBig) && explicitVr) return EXPLICIT_BIG_ENDIAN;
  return null;
}

/** A Part 10 file, or a bare data set without the meta header. */
export function isDicom(bytes: Uint8Array): boolean {
  return hasPart10Prefix(bytes) || rawDatasetSyntax(bytes) !== null;
}

export interface ParsedDicom {
  dataset: DataSet;
  transferSyntax: string;
}

/**
 * The most a deflated data set may inflate to: the pixel data of an image at the import's default
 * pixel limit at 16 bits, plus room for the other elements. The header cannot say how large the
 * data set is, so this is the cap (a 1 MB file of a 1 GiB private element took 3.3 GB).
 */
const MAX_INFLATED_BYTES = DEFAULT_MAX_IMAGE_PIXELS * 2 + 32 * 1024 * 1024;

/**
 * Refusals of deflated data sets, by a hash of the deflated bytes: a file refused once is refused
 * again without inflating it to the cap again (every thumbnail of such a file did). Few and small.
 */
/** A refusal of ours (already in words), passed through dicom-parser unchanged. */
class InflateRefused extends Error {}

const refusedInflates = new Map<string, string>();
const REMEMBERED_REFUSALS = 64;

/** Deflated Explicit VR Little Endian: the data set after the meta group is raw deflate. */
function inflate(bytes: Uint8Array, position: number): Uint8Array {
  const deflated = bytes.subarray(position);
  const key = createHash('sha256').update(deflated).digest('hex');
  const refused = refusedInflates.get(key);
  if (refused) throw new InflateRefused(refused);
  let inflated: Buffer;
  try {
    inflated = zlib.inflateRawSync(deflated, { maxOutputLength: MAX_INFLATED_BYTES });
  } catch (error) {
    const reason =
      (error as NodeJS.ErrnoException).code === 'ERR_BUFFER_TOO_LARGE'
        ? `the deflated data set inflates past ${MAX_INFLATED_BYTES / 2 ** 20} MiB, more than an image of ${Math.sqrt(DEFAULT_MAX_IMAGE_PIXELS)}x${Math.sqrt(DEFAULT_MAX_IMAGE_PIXELS)} 16-bit pixels needs`
        : `the deflated data set does not inflate (${(error as Error).message})`;
    if (refusedInflates.size >= REMEMBERED_REFUSALS)
      refusedInflates.delete(refusedInflates.keys().next().value!);
    refusedInflates.set(key, reason);
    throw new InflateRefused(reason);
  }
  const out = new Uint8Array(position + inflated.length);
  out.set(bytes.subarray(0, position));
  out.set(inflated, position);
  return out;
}

/**
 * A parse failure in words: dicom-parser throws strings, objects and Errors that name its own
 * functions and parameters, which say nothing to the person importing.
 */
function parseError(error: unknown): Error {
  if (error instanceof InflateRefused) return new Error(error.message);
  const message =
    error instanceof Error
      ? error.message
      : typeof error === 'string'
        ? error
        : String((error as { exception?: string }).exception ?? '');
  // dicom-parser hands over what it read before the failure: enough to say what the object is.
  const partial = (error as { dataSet?: DataSet } | null)?.dataSet;
  let what = 'a DICOM file';
  try {
    if (partial?.elements?.[TAG.SOPClassUID]) what = sopClassPhrase(text(partial, TAG.SOPClassUID));
  } catch {
    // The partial data set is itself unreadable: keep the generic phrase.
  }
  // dicom-parser reads sequences recursively: a file nested thousands deep overflows the stack.
  if (/Maximum call stack size exceeded/i.test(message))
    return new Error(
      `${what}, with sequences nested too deeply to read (thousands of levels; a DICOM image nests a few)`,
    );
  if (/0002,0010/.test(message))
    return new Error(`${what} without a Transfer Syntax UID in its file meta information`);
  if (/overrun|end of buffer|past the end|position|maxPosition|length/i.test(message))
    return new Error(`${what}, truncated or damaged (an element runs past the end of the file)`);
  if (/DICM prefix/.test(message)) return new Error('not a DICOM file');
  return new Error(`${what}, damaged (its elements cannot be read)`);
}

/** Parses a Part 10 file, or a bare data set, without copying its pixel data. */
export function parseDicom(bytes: Uint8Array): ParsedDicom {
  const part10 = hasPart10Prefix(bytes);
  const rawSyntax = part10 ? null : rawDatasetSyntax(bytes);
  if (!part10 && !rawSyntax) throw new Error('not a DICOM file');
  let dataset: DataSet;
  try {
    dataset = dicomParser.parseDicom(bytes, {
      inflater: inflate,
      ...(rawSyntax ? { TransferSyntaxUID: rawSyntax } : {}),
    });
  } catch (error) {
    throw parseError(error);
  }
  const transferSyntax = rawSyntax ?? text(dataset, TAG.TransferSyntaxUID);
  if (!transferSyntax)
    throw new Error(
      `${sopClassPhrase(text(dataset, TAG.SOPClassUID))} without a Transfer Syntax UID in its file meta information`,
    );
  return { dataset, transferSyntax };
}

/** The first value of a string element (AE, CS, SH, LO, UI, DA), trimmed; '' when absent. */
export function text(dataset: DataSet, tag: string): string {
  return dataset.string(tag)?.trim() ?? '';
}

/** Every value of a multi-valued string element. */
export function texts(dataset: DataSet, tag: string): string[] {
  const count = dataset.numStringValues(tag) ?? 0;
  return Array.from({ length: count }, (_, i) => dataset.string(tag, i)?.trim() ?? '');
}

/** Every value of a DS or IS element that parses as a finite number. */
export function decimals(dataset: DataSet, tag: string): number[] {
  const count = dataset.numStringValues(tag) ?? 0;
  return Array.from({ length: count }, (_, i) => dataset.floatString(tag, i)).filter(
    (v): v is number => v !== undefined && Number.isFinite(v),
  );
}

export function decimal(dataset: DataSet, tag: string): number | null {
  return decimals(dataset, tag)[0] ?? null;
}

/** A US value (index `i` of a multi-valued one), or null. */
export function us(dataset: DataSet, tag: string, i = 0): number | null {
  const element = dataset.elements[tag];
  if (!element || element.length < 2 * (i + 1)) return null;
  return dataset.uint16(tag, i) ?? null;
}

/** The items of a sequence. */
export function items(dataset: DataSet, tag: string): DataSet[] {
  return (dataset.elements[tag]?.items ?? [])
    .map((item) => item.dataSet)
    .filter((item): item is DataSet => item !== undefined);
}

/** An element's value bytes (a view into the file), or null when absent. */
export function valueBytes(dataset: DataSet, tag: string): Uint8Array | null {
  const element = dataset.elements[tag];
  if (!element) return null;
  if (element.dataOffset + element.length > dataset.byteArray.length)
    throw new Error('truncated DICOM file (an element ends past the end of the file)');
  return dataset.byteArray.subarray(element.dataOffset, element.dataOffset + element.length);
}

/** The (single) frame's pixel data bytes: native, or every fragment joined when encapsulated. */
export function pixelDataBytes(parsed: ParsedDicom): Uint8Array {
  const { dataset } = parsed;
  const element = dataset.elements[TAG.PixelData];
  if (!element) throw new Error('no pixel data');
  if (!element.encapsulatedPixelData) return valueBytes(dataset, TAG.PixelData)!;
  const fragments = element.fragments ?? [];
  if (fragments.length === 0) throw new Error('encapsulated pixel data without fragments');
  try {
    return dicomParser.readEncapsulatedPixelDataFromFragments(
      dataset,
      element,
      0,
      fragments.length,
    );
  } catch (error) {
    throw parseError(error);
  }
}

/** The facts of a DICOM file this project keeps, shows or needs for SEG references. */
export interface DicomFacts {
  sopClassUid: string;
  sopInstanceUid: string;
  studyInstanceUid: string;
  seriesInstanceUid: string;
  patientId: string;
  /** DICOM DA (YYYYMMDD) as ISO YYYY-MM-DD, or '' when absent or malformed. */
  studyDate: string;
  modality: string;
  viewPosition: string;
  /** Row and column spacing in mm (Pixel Spacing, else Imager Pixel Spacing), or null. */
  pixelSpacing: [number, number] | null;
  rows: number;
  columns: number;
  frames: number;
  samplesPerPixel: number;
  photometric: string;
  /** 1 when a colour image's samples are stored plane by plane (native data only). */
  planar: boolean;
  bitsAllocated: number;
  bitsStored: number;
  highBit: number;
  signed: boolean;
  transferSyntax: string;
}

function isoDate(da: string): string {
  const match = /^(\d{4})(\d{2})(\d{2})$/.exec(da.replace(/[.-]/g, ''));
  return match ? `${match[1]}-${match[2]}-${match[3]}` : '';
}

function spacing(dataset: DataSet): [number, number] | null {
  for (const tag of [TAG.PixelSpacing, TAG.ImagerPixelSpacing]) {
    const values = decimals(dataset, tag);
    if (values.length >= 2 && values[0] > 0 && values[1] > 0) return [values[0], values[1]];
  }
  return null;
}

export function dicomFacts(parsed: ParsedDicom): DicomFacts {
  const ds = parsed.dataset;
  const bitsAllocated = us(ds, TAG.BitsAllocated) ?? 0;
  const bitsStored = us(ds, TAG.BitsStored) ?? bitsAllocated;
  return {
    sopClassUid: text(ds, TAG.SOPClassUID),
    sopInstanceUid: text(ds, TAG.SOPInstanceUID),
    studyInstanceUid: text(ds, TAG.StudyInstanceUID),
    seriesInstanceUid: text(ds, TAG.SeriesInstanceUID),
    patientId: text(ds, TAG.PatientID),
    studyDate: isoDate(text(ds, TAG.StudyDate)),
    modality: text(ds, TAG.Modality),
    viewPosition: text(ds, TAG.ViewPosition),
    pixelSpacing: spacing(ds),
    rows: us(ds, TAG.Rows) ?? 0,
    columns: us(ds, TAG.Columns) ?? 0,
    frames: decimal(ds, TAG.NumberOfFrames) ?? 1,
    samplesPerPixel: us(ds, TAG.SamplesPerPixel) ?? 1,
    photometric: text(ds, TAG.PhotometricInterpretation).toUpperCase(),
    planar: us(ds, TAG.PlanarConfiguration) === 1,
    bitsAllocated,
    bitsStored,
    highBit: us(ds, TAG.HighBit) ?? bitsStored - 1,
    signed: us(ds, TAG.PixelRepresentation) === 1,
    transferSyntax: parsed.transferSyntax,
  };
}
