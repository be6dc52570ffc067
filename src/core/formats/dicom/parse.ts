/**
 * Reads DICOM Part 10 files with dcmjs: the File Meta Information, the data set (implicit or
 * explicit little endian, deflated), and the facts this project uses from it. Only the tags the
 * project shows or needs for references ever leave this module (see `DicomFacts`).
 */
import dcmjs, { type DicomDataset, type DicomElement } from 'dcmjs';

dcmjs.log.setLevel('error');

export const TAG = {
  SOPClassUID: '00080016',
  SOPInstanceUID: '00080018',
  StudyDate: '00080020',
  Modality: '00080060',
  PatientID: '00100020',
  ImagerPixelSpacing: '00181164',
  ViewPosition: '00185101',
  StudyInstanceUID: '0020000D',
  SeriesInstanceUID: '0020000E',
  SamplesPerPixel: '00280002',
  PhotometricInterpretation: '00280004',
  NumberOfFrames: '00280008',
  Rows: '00280010',
  Columns: '00280011',
  PixelSpacing: '00280030',
  BitsAllocated: '00280100',
  BitsStored: '00280101',
  HighBit: '00280102',
  PixelRepresentation: '00280103',
  WindowCenter: '00281050',
  WindowWidth: '00281051',
  RescaleIntercept: '00281052',
  RescaleSlope: '00281053',
  WindowCenterWidthExplanation: '00281055',
  VOILUTFunction: '00281056',
  ModalityLUTSequence: '00283000',
  LUTDescriptor: '00283002',
  LUTExplanation: '00283003',
  LUTData: '00283006',
  VOILUTSequence: '00283010',
  ReferencedSeriesSequence: '00081115',
  ReferencedInstanceSequence: '0008114A',
  ReferencedSOPInstanceUID: '00081155',
  SegmentSequence: '00620002',
  PerFrameFunctionalGroupsSequence: '52009230',
  DerivationImageSequence: '00089124',
  SourceImageSequence: '00082112',
  PixelData: '7FE00010',
  TransferSyntaxUID: '00020010',
} as const;

export const SEGMENTATION_STORAGE = '1.2.840.10008.5.1.4.1.1.66.4';
export const SECONDARY_CAPTURE_STORAGE = '1.2.840.10008.5.1.4.1.1.7';

/** How the pixel data of a transfer syntax is decoded (null: this project cannot). */
export type PixelCodec =
  'native' | 'rle' | 'jpeg-baseline' | 'jpeg-lossless' | 'jpeg-ls' | 'jpeg-2000' | null;

export const TRANSFER_SYNTAXES: Record<string, { name: string; codec: PixelCodec }> = {
  '1.2.840.10008.1.2': { name: 'Implicit VR Little Endian', codec: 'native' },
  '1.2.840.10008.1.2.1': { name: 'Explicit VR Little Endian', codec: 'native' },
  '1.2.840.10008.1.2.1.99': { name: 'Deflated Explicit VR Little Endian', codec: 'native' },
  '1.2.840.10008.1.2.2': { name: 'Explicit VR Big Endian (retired)', codec: null },
  '1.2.840.10008.1.2.5': { name: 'RLE Lossless', codec: 'rle' },
  '1.2.840.10008.1.2.4.50': { name: 'JPEG Baseline (Process 1)', codec: 'jpeg-baseline' },
  '1.2.840.10008.1.2.4.51': { name: 'JPEG Extended (Process 2 & 4)', codec: null },
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

/** A Part 10 file: 128-byte preamble, then "DICM". */
export function isDicom(bytes: Uint8Array): boolean {
  return (
    bytes.length >= 132 &&
    bytes[128] === 0x44 &&
    bytes[129] === 0x49 &&
    bytes[130] === 0x43 &&
    bytes[131] === 0x4d
  );
}

export interface ParsedDicom {
  meta: DicomDataset;
  dataset: DicomDataset;
  transferSyntax: string;
}

function toArrayBuffer(bytes: Uint8Array): ArrayBuffer {
  if (bytes.byteOffset === 0 && bytes.byteLength === bytes.buffer.byteLength)
    return bytes.buffer as ArrayBuffer;
  return bytes.buffer.slice(bytes.byteOffset, bytes.byteOffset + bytes.byteLength) as ArrayBuffer;
}

/**
 * Parses a Part 10 file. `headerOnly` stops before the Pixel Data value (what an import probe
 * needs); the pixel data's presence and length are then checked by `pixelDataExtent`.
 */
export function parseDicom(bytes: Uint8Array, options: { headerOnly?: boolean } = {}): ParsedDicom {
  if (!isDicom(bytes)) throw new Error('not a DICOM Part 10 file (no DICM preamble)');
  const buffer = toArrayBuffer(bytes);
  const read = (ignoreErrors: boolean) =>
    dcmjs.data.DicomMessage.readFile(buffer, {
      ignoreErrors,
      noCopy: true,
      untilTag: options.headerOnly ? TAG.PixelData : null,
      includeUntilTagValue: false,
    });
  let dict;
  try {
    dict = read(false);
  } catch (error) {
    // A character set dcmjs does not know only garbles names: read on with its default.
    if (!/character set/i.test(String((error as Error).message))) throw error;
    dict = read(true);
  }
  const transferSyntax = text(dict.meta, TAG.TransferSyntaxUID);
  if (!transferSyntax) throw new Error('no Transfer Syntax UID in the file meta information');
  return { meta: dict.meta, dataset: dict.dict, transferSyntax };
}

function element(dataset: DicomDataset, tag: string): DicomElement | undefined {
  return dataset[tag];
}

function plain(value: unknown): string {
  return typeof value === 'string' || typeof value === 'number' ? String(value).trim() : '';
}

/** The first value of a string element, trimmed; '' when absent. */
export function text(dataset: DicomDataset, tag: string): string {
  return plain(element(dataset, tag)?.Value?.[0]);
}

/** Every value of a numeric element (DS/IS arrive as strings or numbers). */
export function numbers(dataset: DicomDataset, tag: string): number[] {
  const values = element(dataset, tag)?.Value ?? [];
  return values
    .filter((v) => v !== null && v !== '' && v !== undefined && typeof v !== 'object')
    .map(Number)
    .filter(Number.isFinite);
}

export function number(dataset: DicomDataset, tag: string): number | null {
  return numbers(dataset, tag)[0] ?? null;
}

/** Every string value of a multi-valued string element. */
export function texts(dataset: DicomDataset, tag: string): string[] {
  return (element(dataset, tag)?.Value ?? []).map(plain);
}

/** The items of a sequence. */
export function items(dataset: DicomDataset, tag: string): DicomDataset[] {
  return (element(dataset, tag)?.Value ?? []) as DicomDataset[];
}

/** The binary value of an element (OB/OW), or its frames when encapsulated, as byte views. */
export function binaryValues(dataset: DicomDataset, tag: string): Uint8Array[] {
  const out: Uint8Array[] = [];
  for (const value of element(dataset, tag)?.Value ?? []) {
    if (value instanceof ArrayBuffer) out.push(new Uint8Array(value));
    else if (ArrayBuffer.isView(value))
      out.push(new Uint8Array(value.buffer, value.byteOffset, value.byteLength));
  }
  return out;
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

function spacing(dataset: DicomDataset): [number, number] | null {
  for (const tag of [TAG.PixelSpacing, TAG.ImagerPixelSpacing]) {
    const values = numbers(dataset, tag);
    if (values.length >= 2 && values[0] > 0 && values[1] > 0) return [values[0], values[1]];
  }
  return null;
}

export function dicomFacts(parsed: ParsedDicom): DicomFacts {
  const ds = parsed.dataset;
  const bitsAllocated = number(ds, TAG.BitsAllocated) ?? 0;
  const bitsStored = number(ds, TAG.BitsStored) ?? bitsAllocated;
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
    rows: number(ds, TAG.Rows) ?? 0,
    columns: number(ds, TAG.Columns) ?? 0,
    frames: number(ds, TAG.NumberOfFrames) ?? 1,
    samplesPerPixel: number(ds, TAG.SamplesPerPixel) ?? 1,
    photometric: text(ds, TAG.PhotometricInterpretation).toUpperCase(),
    bitsAllocated,
    bitsStored,
    highBit: number(ds, TAG.HighBit) ?? bitsStored - 1,
    signed: number(ds, TAG.PixelRepresentation) === 1,
    transferSyntax: parsed.transferSyntax,
  };
}
