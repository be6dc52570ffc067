/** JPEG (baseline and progressive, 8-bit) through sharp. */
import sharp from 'sharp';
import { registerImageDecoder, type ImageHeader } from './registry';
import {
  decodeGrayPipeline,
  headerFromMetadata,
  sharpFileHeader,
  sharpPipeline,
} from './sharp-pixels';

export function isJpeg(bytes: Buffer): boolean {
  return bytes.length >= 3 && bytes[0] === 0xff && bytes[1] === 0xd8 && bytes[2] === 0xff;
}

/** A JPEG whose end-of-image marker is missing was cut short. */
function endsWithJpegEoi(buffer: Buffer): boolean {
  const tail = buffer.subarray(Math.max(0, buffer.length - 64));
  for (let i = tail.length - 2; i >= 0; i--)
    if (tail[i] === 0xff && tail[i + 1] === 0xd9) return true;
  return false;
}

async function readJpegHeader(bytes: Buffer): Promise<ImageHeader> {
  const header = headerFromMetadata(await sharp(bytes).metadata(), 'jpeg');
  if (!endsWithJpegEoi(bytes)) throw new Error('truncated JPEG (no EOI)');
  return header;
}

registerImageDecoder({
  id: 'jpeg',
  label: 'JPEG',
  extensions: ['.jpg', '.jpeg'],
  sniff: isJpeg,
  readHeader: readJpegHeader,
  readFileHeader: (file) => sharpFileHeader(file, 'jpeg'),
  decode: async (bytes, options) =>
    decodeGrayPipeline(sharpPipeline(bytes), await readJpegHeader(bytes), options?.depth),
  pipeline: sharpPipeline,
});
