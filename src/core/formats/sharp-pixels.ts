/**
 * Shared by the decoders of formats sharp reads (PNG, JPEG, TIFF, WebP, GIF, and BMP once our own
 * decoder made it raw): header facts from sharp's metadata, and the full decode of a pipeline to
 * one gray channel of 8 or 16 bits.
 */
import sharp from 'sharp';
import type { DecodedImage, ImageDecoder, ImageHeader } from './registry';

const SIXTEEN_BIT = new Set(['ushort', 'short']);

/** Header facts from sharp's metadata (no pixels are decoded). */
export function headerFromMetadata(meta: sharp.Metadata, format: string): ImageHeader {
  if (!meta.width || !meta.height || !meta.format) throw new Error('not an image');
  return {
    width: meta.width,
    height: meta.height,
    bitDepth: meta.depth && SIXTEEN_BIT.has(meta.depth) ? 16 : 8,
    channels: meta.channels ?? 1,
    format,
  };
}

/** Header facts of a file on disk through sharp (reads the header, not the pixels). */
export async function sharpFileHeader(file: string, format: string): Promise<ImageHeader> {
  return headerFromMetadata(await sharp(file).metadata(), format);
}

/**
 * Decodes a pipeline on a file with `header` to one gray channel: colour becomes gray, alpha is
 * flattened onto black, 16-bit stays 16-bit unless `depth` is 8.
 */
export async function decodeGrayPipeline(
  pipeline: sharp.Sharp,
  header: ImageHeader,
  depth?: 8 | 16,
): Promise<DecodedImage> {
  const sixteen = (depth ?? header.bitDepth) === 16 && header.bitDepth === 16;
  if (header.channels === 2 || header.channels === 4)
    pipeline = pipeline.flatten({ background: '#000000' });
  const { data, info: out } = await pipeline
    .toColourspace(sixteen ? 'grey16' : 'b-w')
    .raw({ depth: sixteen ? 'ushort' : 'uchar' })
    .toBuffer({ resolveWithObject: true });
  if (out.channels !== 1) throw new Error(`expected gray output, got ${out.channels} channels`);
  const array = sixteen
    ? new Uint16Array(data.buffer, data.byteOffset, data.length / 2)
    : new Uint8Array(data.buffer, data.byteOffset, data.length);
  return { data: array, width: out.width, height: out.height, bitDepth: sixteen ? 16 : 8 };
}

/** The pipeline of a file sharp reads itself; damaged data is an error, not a warning. */
export function sharpPipeline(bytes: Buffer): sharp.Sharp {
  return sharp(bytes, { failOn: 'error' });
}

/**
 * A decoder whose header and pixels sharp reads (JPEG, TIFF, WebP, GIF). `check` refuses bytes
 * sharp would read only in part (a JPEG without its end marker).
 */
export function sharpDecoder(format: {
  id: string;
  label: string;
  extensions: readonly string[];
  sniff: (bytes: Buffer) => boolean;
  check?: (bytes: Buffer) => void;
}): ImageDecoder {
  const { id, label, extensions, sniff, check } = format;
  const readHeader = async (bytes: Buffer): Promise<ImageHeader> => {
    const header = headerFromMetadata(await sharp(bytes).metadata(), id);
    check?.(bytes);
    return header;
  };
  return {
    id,
    label,
    extensions,
    sniff,
    readHeader,
    readFileHeader: (file) => sharpFileHeader(file, id),
    decode: async (bytes, options) =>
      decodeGrayPipeline(sharpPipeline(bytes), await readHeader(bytes), options?.depth),
    pipeline: sharpPipeline,
  };
}
