/**
 * The formats registry: each file-format module (./png, ./jpeg, ./coco, ...) registers what it can
 * read (image decoders) and write (export formats). Import, display, the ML worker and export ask
 * the registry; none of them names a format.
 *
 * This file holds the interfaces and the tables only; ./index imports every format module so
 * that they are registered before anyone asks.
 */
import type sharp from 'sharp';
import type { DicomDisplay } from '../../shared/dicom-voi';
import type { MaskSource, Split } from '../../shared/contract-review';
import type { ExportOptions } from '../../shared/export-schemas';
import type { QataNames } from './names';

// ---------------------------------------------------------------------------------------------
// Image decoders

/** Facts read from a file's header, without decoding its pixels. */
export interface ImageHeader {
  width: number;
  height: number;
  /** 8 or 16 (bits per sample after decoding). */
  bitDepth: number;
  /** Channels in the file (1 gray, 2 gray+alpha, 3 RGB, 4 RGBA). */
  channels: number;
  /** The decoder's id (recorded with each imported image). */
  format: string;
}

/** A named window (level/width) a viewer may offer, e.g. from a DICOM header. */
export interface WindowPreset {
  name: string;
  center: number;
  width: number;
}

/** What a file says about its pixels beyond their values (all optional). */
export interface ImageMetadata {
  /** Millimetres between pixel centres: [row spacing, column spacing]. */
  pixelSpacing?: [number, number];
  windows?: WindowPreset[];
  /** How a viewer windows the decoded values: DICOM's VOI presets and MONOCHROME1 inversion. */
  display?: DicomDisplay;
}

/** One gray channel, row-major. */
export interface GrayImage {
  data: Uint8Array | Uint16Array;
  width: number;
  height: number;
  bitDepth: 8 | 16;
}

export interface DecodedImage extends GrayImage {
  metadata?: ImageMetadata;
}

export interface DecodeOptions {
  /** 8 scales a 16-bit file down; default keeps the file's depth. */
  depth?: 8 | 16;
}

export interface ImageDecoder {
  /** Short name, also the `format` recorded at import (png, jpeg, ...). */
  readonly id: string;
  readonly label: string;
  /** Lower-case extensions with the dot that mark an image file when a folder is listed. */
  readonly extensions: readonly string[];
  /** True when the bytes (the file's first bytes suffice) are this format's. */
  sniff(bytes: Buffer): boolean;
  /**
   * True when this format's magic, where present, outranks every other's: DICOM's "DICM" at
   * offset 128 follows a preamble that may itself hold a TIFF header (PS3.10 7.1).
   */
  readonly sniffFirst?: boolean;
  /** Header facts without decoding; throws when the file is unusable (truncated, damaged). */
  readHeader(bytes: Buffer): Promise<ImageHeader>;
  /** Header facts of a file too large to hold in memory (default: the file is read whole). */
  readFileHeader?(file: string): Promise<ImageHeader>;
  /** Full decode to one gray channel; 16-bit files stay 16-bit unless `depth` is 8. */
  decode(bytes: Buffer, options?: DecodeOptions): Promise<DecodedImage>;
  /**
   * Where sharp reads the pixels (in the file's own channels), a pipeline on them: display and
   * resizing then run in one sharp pass. Without it the display path starts from `decode`.
   */
  pipeline?(bytes: Buffer): sharp.Sharp;
  /** True when the file itself already is the gray PNG of `depth` the viewer wants. */
  servesAsDisplayPng?(bytes: Buffer, depth: 8 | 16 | undefined): boolean;
  /**
   * The 8-bit image shown first and trained on, where the format defines one (DICOM: the default
   * VOI, MONOCHROME1 inverted). Without it a 16-bit file is stretched over its used range.
   */
  decode8?(bytes: Buffer): Promise<GrayImage>;
}

const imageDecoders: ImageDecoder[] = [];

export function registerImageDecoder(decoder: ImageDecoder): void {
  if (imageDecoders.some((known) => known.id === decoder.id)) {
    throw new Error(`image decoder ${decoder.id} is registered twice`);
  }
  imageDecoders.push(decoder);
}

export function listImageDecoders(): readonly ImageDecoder[] {
  return imageDecoders;
}

/** The decoder whose magic bytes match, or null. */
export function findImageDecoder(bytes: Buffer): ImageDecoder | null {
  return (
    imageDecoders.find((decoder) => decoder.sniffFirst && decoder.sniff(bytes)) ??
    imageDecoders.find((decoder) => !decoder.sniffFirst && decoder.sniff(bytes)) ??
    null
  );
}

/** The decoder whose magic bytes match; throws 'unsupported image format' when none does. */
export function imageDecoderFor(bytes: Buffer): ImageDecoder {
  if (bytes.length === 0) throw new Error('empty file');
  const decoder = findImageDecoder(bytes);
  if (!decoder) throw new Error('unsupported image format');
  return decoder;
}

/** Every extension a decoder claims (lower case, with the dot), for messages. */
export function imageExtensions(): string[] {
  return [...new Set(imageDecoders.flatMap((decoder) => decoder.extensions))];
}

/** True when a file name's extension is one a decoder claims. */
export function hasImageExtension(name: string): boolean {
  const dot = name.lastIndexOf('.');
  if (dot < 0) return false;
  const extension = name.slice(dot).toLowerCase();
  return imageDecoders.some((decoder) => decoder.extensions.includes(extension));
}

// ---------------------------------------------------------------------------------------------
// Export formats

/** What one output file is, for the manifest: the mask (label) or an image. */
export type ExportFileRole = 'mask' | 'image';

export interface PlannedFile {
  /** Relative to OUT, '/' separators. */
  file: string;
  role: ExportFileRole;
}

/** What a format knows of an image: the facts the project recorded at import. */
export interface ExportImage {
  id: number;
  /** File name and the path relative to its dataset folder ('/' separators). */
  name: string;
  relPath: string;
  split: Split;
  /** The decoder's id (png, dicom, ...). */
  format: string;
  sha256: string;
  width: number;
  height: number;
  createdAt: string;
}

/** Where an exported mask comes from. */
export interface ExportRevision {
  source: MaskSource;
  modelVersion: string | null;
  author: string;
  /** Where the label comes from when not the label in force ("reader ana, plan 2"). */
  description?: string | null;
}

/** An image chosen for export, before anything is rendered. */
export interface ExportTarget {
  image: ExportImage;
  /** The image's QaTa folder and names (sanitised). */
  names: QataNames;
  options: ExportOptions;
}

/** The chosen revision's pixels, one byte per pixel, row-major. */
export interface ExportMask {
  /** 0/255 after the threshold (predictions) or as stored (ground truth, corrections). */
  binary: Uint8Array;
  /** The stored values: 0..255 probabilities for a prediction, else the same as `binary`. */
  values: Uint8Array;
  width: number;
  height: number;
  /** Pixels of `binary` that are foreground. */
  foreground: number;
}

export interface ExportRenderInput extends ExportTarget {
  /**
   * The DICOM SEG's segment label and its colour as RGB, from the project's settings: the export
   * room reads the project and hands the figures in; formats never read the project themselves.
   */
  segmentLabel: { name: string; colour: [number, number, number] };
  revision: ExportRevision;
  /** Millimetres between pixel centres as recorded at import (a DICOM's header), or null. */
  recordedPixelSpacing: [number, number] | null;
  /** The model version of the export (predictions), if any. */
  model: string | null;
  /** This image's files as planned by `imageFiles`, in that order. */
  files: readonly PlannedFile[];
  mask: ExportMask;
  /** The source image in 8-bit gray, 16-bit stretched (read on demand; throws when unreadable). */
  readImageGray8: () => Promise<{ data: Uint8Array; width: number; height: number }>;
  /** The source image decoded by its decoder: gray of its own depth (or `depth`), metadata. */
  readImage: (depth?: 8 | 16) => Promise<DecodedImage>;
  /** The source image file's bytes as they are (e.g. to copy it, or read its own headers). */
  readImageFile: () => Promise<Buffer>;
}

export interface ExportRendered<R> {
  /** Bytes of each planned file, in the order of `files`. */
  data: (Uint8Array | string)[];
  /** Kept for `finish` (e.g. one COCO entry). */
  record?: R;
}

/** A written image as `finish` sees it. */
export interface ExportRecord<R> {
  image: ExportImage;
  names: QataNames;
  mask: ExportMask;
  record: R | undefined;
}

export interface ExportFinishInput<R> {
  /** The train/validation hold-out of the active model (nnU-Net's fold), or null for none. */
  holdOut: { valFraction: number; seed: number } | null;
  options: ExportOptions;
  model: string | null;
  /** Every written image, in image id order. */
  records: ExportRecord<R>[];
}

export interface ExportFormatDefinition<R = unknown> {
  /** The contract's id (exportFormatSchema). */
  readonly id: string;
  readonly label: string;
  /** The files this format writes for one image (planned before anything is written). */
  imageFiles(target: ExportTarget): PlannedFile[];
  /** The files written once at the end of the export (COCO's JSON, a dataset description). */
  datasetFiles?(options: ExportOptions): PlannedFile[];
  /** Bytes of one image's files, or why the image is left out. */
  render(input: ExportRenderInput): Promise<ExportRendered<R> | { reason: string }>;
  /** Contents of `datasetFiles`, in their order, from every written image. */
  finish?(input: ExportFinishInput<R>): Promise<(Uint8Array | string)[]>;
}

const exportFormats = new Map<string, ExportFormatDefinition>();

export function registerExportFormat<R>(format: ExportFormatDefinition<R>): void {
  if (exportFormats.has(format.id))
    throw new Error(`export format ${format.id} is registered twice`);
  // A format's records only ever come back to its own `finish`.
  exportFormats.set(format.id, format);
}

export function listExportFormats(): readonly ExportFormatDefinition[] {
  return [...exportFormats.values()];
}

export function exportFormatOf(id: string): ExportFormatDefinition {
  const format = exportFormats.get(id);
  if (!format) throw new Error(`no export format ${JSON.stringify(id)} is registered`);
  return format;
}

// ---------------------------------------------------------------------------------------------
// Mask readers

export interface MaskReadOptions {
  /** The file holds probabilities (8/16-bit PNG, float NIfTI 0..1), not a binary mask. */
  probability?: boolean;
  /** The size the mask must have (its image's): a reader refuses another from the header. */
  expected?: { width: number; height: number };
  /** Refused from the header above this many pixels (default MAX_DECODABLE_PIXELS). */
  maxPixels?: number;
}

/** A mask file's pixels: 0/255 for a mask, 0..255 for probabilities; one byte each, row-major. */
export interface MaskRead {
  values: Uint8Array;
  width: number;
  height: number;
  /** Pixels > 0 (binary masks). */
  foreground: number;
  /** The file's values were all in {0,1} or all in {0,255} (binary masks). */
  cleanValues: boolean;
  /** Some foreground pixel had the value 1 (a 0/1 mask). */
  oneValued: boolean;
  /** What the reader noticed and the report should say (clipped probabilities, ...). */
  warning?: string;
}

/** Every mask a file holds, by the SOP Instance UID of the image each is for. */
export interface ReferencedMasks {
  width: number;
  height: number;
  masks: Map<string, Uint8Array>;
}

interface MaskReaderBase {
  readonly id: string;
  readonly label: string;
  /** Lower-case file name endings (with the dot, e.g. '.nii.gz') this reader claims. */
  readonly extensions: readonly string[];
  /** True when the bytes are this reader's (for files whose name says nothing). */
  sniff(bytes: Buffer): boolean;
}

/** A mask paired with its image by file name (mask_<name>, <stem>.nii.gz, ...). */
export interface NamedMaskReader extends MaskReaderBase {
  readonly pairing: 'name';
  read(bytes: Buffer, options?: MaskReadOptions): Promise<MaskRead>;
}

/** A file paired by the images it references (DICOM SEG), not by its name. */
export interface ReferencingMaskReader extends MaskReaderBase {
  readonly pairing: 'reference';
  /** The SOP Instance UIDs of the images it holds masks for, from its header. */
  references(bytes: Buffer): string[];
  /** Every mask the file holds, 0/255. */
  readAll(bytes: Buffer): ReferencedMasks;
}

export type MaskReader = NamedMaskReader | ReferencingMaskReader;

const maskReaders: MaskReader[] = [];

export function registerMaskReader(reader: MaskReader): void {
  if (maskReaders.some((known) => known.id === reader.id)) {
    throw new Error(`mask reader ${reader.id} is registered twice`);
  }
  maskReaders.push(reader);
}

export function listMaskReaders(): readonly MaskReader[] {
  return maskReaders;
}

/** The reader whose file name ending matches (the longest ending wins: .nii.gz over .gz). */
export function maskReaderForName(name: string): MaskReader | null {
  const lower = name.toLowerCase();
  let best: { reader: MaskReader; length: number } | null = null;
  for (const reader of maskReaders)
    for (const extension of reader.extensions)
      if (lower.endsWith(extension) && extension.length > (best?.length ?? 0))
        best = { reader, length: extension.length };
  return best?.reader ?? null;
}

/**
 * The reader of a mask file: by its bytes when they are at hand (a referencing reader's magic is
 * more specific than an image's, so those are asked first), else by its name.
 */
export function maskReaderFor(name: string, bytes?: Buffer): MaskReader | null {
  if (bytes && bytes.length > 0) {
    const sniffed =
      maskReaders.find((reader) => reader.pairing === 'reference' && reader.sniff(bytes)) ??
      maskReaders.find((reader) => reader.pairing === 'name' && reader.sniff(bytes));
    if (sniffed) return sniffed;
  }
  return maskReaderForName(name);
}

/** Labels of every mask reader, for messages ('PNG, NIfTI, DICOM SEG'). */
export function maskReaderLabels(): string {
  return maskReaders.map((reader) => reader.label).join(', ');
}
