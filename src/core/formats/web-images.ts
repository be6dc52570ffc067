/**
 * WebP and GIF through sharp. No extension is claimed (a folder listing never picks these files),
 * but a file named .png or .jpg that holds one still decodes.
 */
import sharp from 'sharp';
import { registerImageDecoder, type ImageDecoder } from './registry';
import {
  decodeGrayPipeline,
  headerFromMetadata,
  sharpFileHeader,
  sharpPipeline,
} from './sharp-pixels';

function sharpOnlyDecoder(
  id: string,
  label: string,
  sniff: (bytes: Buffer) => boolean,
): ImageDecoder {
  const readHeader = async (bytes: Buffer) => headerFromMetadata(await sharp(bytes).metadata(), id);
  return {
    id,
    label,
    extensions: [],
    sniff,
    readHeader,
    readFileHeader: (file) => sharpFileHeader(file, id),
    decode: async (bytes, options) =>
      decodeGrayPipeline(sharpPipeline(bytes), await readHeader(bytes), options?.depth),
    pipeline: sharpPipeline,
  };
}

registerImageDecoder(
  sharpOnlyDecoder(
    'webp',
    'WebP',
    (bytes) =>
      bytes.length >= 12 &&
      bytes.toString('latin1', 0, 4) === 'RIFF' &&
      bytes.toString('latin1', 8, 12) === 'WEBP',
  ),
);
registerImageDecoder(
  sharpOnlyDecoder(
    'gif',
    'GIF',
    (bytes) => bytes.length >= 6 && bytes.toString('latin1', 0, 4) === 'GIF8',
  ),
);
