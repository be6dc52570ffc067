/**
 * Image decoding for import, display and the ML worker, whatever the file format: the formats
 * registry (../formats) finds the decoder by the file's magic bytes. Colour images become gray;
 * 16-bit images keep their full range unless 8 bits are asked for.
 */
import fs from 'node:fs/promises';
import sharp from 'sharp';
import { imageDecoderFor, type GrayImage, type ImageDecoder, type ImageHeader } from '../formats';

export type ImageInfo = ImageHeader;
export type { GrayImage };

/** Bytes enough to recognise every registered format. */
const SNIFF_BYTES = 4096;

/** A sharp pipeline on the file's pixels: the decoder's own, else from its gray decode. */
async function openImage(decoder: ImageDecoder, input: Buffer): Promise<sharp.Sharp> {
  if (decoder.pipeline) return decoder.pipeline(input);
  const gray = await decoder.decode(input);
  return sharp(gray.data, { raw: { width: gray.width, height: gray.height, channels: 1 } });
}

/**
 * Reads only the header: size, depth, channels. Files that end early are refused here too
 * (PNG without IEND, JPEG without EOI), so a truncated file is caught without a full decode.
 */
export async function probeImage(input: Buffer): Promise<ImageInfo> {
  return imageDecoderFor(input).readHeader(input);
}

/** Header facts of a file on disk, reading no more of it than its decoder needs. */
export async function probeImageFile(file: string): Promise<ImageInfo> {
  const handle = await fs.open(file, 'r');
  let start: Buffer;
  try {
    const buffer = Buffer.alloc(SNIFF_BYTES);
    const { bytesRead } = await handle.read(buffer, 0, SNIFF_BYTES, 0);
    start = buffer.subarray(0, bytesRead);
  } finally {
    await handle.close();
  }
  const decoder = imageDecoderFor(start);
  if (decoder.readFileHeader) return decoder.readFileHeader(file);
  return decoder.readHeader(await fs.readFile(file));
}

/** Full decode to one gray channel; 16-bit files stay 16-bit unless `depth` is 8. */
export async function decodeGray(input: Buffer, depth?: 8 | 16): Promise<GrayImage> {
  const { data, width, height, bitDepth } = await imageDecoderFor(input).decode(input, { depth });
  return { data, width, height, bitDepth };
}

/** A gray PNG of the image for display: 16-bit for 16-bit sources unless `depth` is 8. */
export async function imageToGrayPng(input: Buffer, depth?: 8 | 16): Promise<Buffer> {
  const decoder = imageDecoderFor(input);
  // Already a plain gray PNG of the wanted depth: serve the file's own bytes.
  if (decoder.servesAsDisplayPng?.(input, depth)) return input;
  const info = await decoder.readHeader(input);
  const sixteen = (depth ?? info.bitDepth) === 16 && info.bitDepth === 16;
  if (!sixteen && info.bitDepth === 16) {
    // sharp scales 16-bit to 8-bit by the full 0..65535 range; stretch the used range instead so
    // a 12-bit X-ray stored in 16 bits is not nearly black.
    const gray = await decodeGray(input, 16);
    return encodeStretched8(gray);
  }
  let pipeline = await openImage(decoder, input);
  if (info.channels === 2 || info.channels === 4)
    pipeline = pipeline.flatten({ background: '#000000' });
  if (sixteen) return pipeline.toColourspace('grey16').png({ compressionLevel: 3 }).toBuffer();
  return pipeline.toColourspace('b-w').png({ compressionLevel: 3 }).toBuffer();
}

async function encodeStretched8(gray: GrayImage): Promise<Buffer> {
  const { data, width, height } = gray;
  let min = Infinity;
  let max = -Infinity;
  for (let i = 0; i < data.length; i++) {
    if (data[i] < min) min = data[i];
    if (data[i] > max) max = data[i];
  }
  const scale = max > min ? 255 / (max - min) : 0;
  const out = Buffer.alloc(data.length);
  for (let i = 0; i < data.length; i++) out[i] = Math.round((data[i] - min) * scale);
  return sharp(out, { raw: { width, height, channels: 1 } })
    .toColourspace('b-w')
    .png({ compressionLevel: 3 })
    .toBuffer();
}

/** A small 8-bit thumbnail PNG whose longer side is `size`. */
export async function thumbnailPng(input: Buffer, size: number): Promise<Buffer> {
  const display = await imageToGrayPng(input, 8);
  return sharp(display)
    .resize(size, size, { fit: 'inside', withoutEnlargement: true })
    .png({ compressionLevel: 6 })
    .toBuffer();
}

/**
 * 8-bit gray pixels of an image file, optionally resized to `size` x `size` (for the ML worker).
 * 16-bit images are stretched over their used range.
 */
export async function readGray8(
  filePath: string,
  size?: number,
): Promise<{ data: Uint8Array; width: number; height: number }> {
  const input = await fs.readFile(filePath);
  const decoder = imageDecoderFor(input);
  const info = await decoder.readHeader(input);
  let pipeline =
    info.bitDepth === 16 ? sharp(await imageToGrayPng(input, 8)) : await openImage(decoder, input);
  if (info.channels === 2 || info.channels === 4)
    pipeline = pipeline.flatten({ background: '#000000' });
  pipeline = pipeline.toColourspace('b-w');
  if (size) pipeline = pipeline.resize(size, size, { fit: 'fill' });
  const { data, info: out } = await pipeline.raw().toBuffer({ resolveWithObject: true });
  return {
    data: new Uint8Array(data.buffer, data.byteOffset, data.length),
    width: out.width,
    height: out.height,
  };
}
