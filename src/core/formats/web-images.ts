/**
 * WebP and GIF through sharp. No extension is claimed (a folder listing never picks these files),
 * but a file named .png or .jpg that holds one still decodes.
 */
import { registerImageDecoder } from './registry';
import { sharpDecoder } from './sharp-pixels';

registerImageDecoder(
  sharpDecoder({
    id: 'webp',
    label: 'WebP',
    extensions: [],
    sniff: (bytes) =>
      bytes.length >= 12 &&
      bytes.toString('latin1', 0, 4) === 'RIFF' &&
      bytes.toString('latin1', 8, 12) === 'WEBP',
  }),
);
registerImageDecoder(
  sharpDecoder({
    id: 'gif',
    label: 'GIF',
    extensions: [],
    sniff: (bytes) => bytes.length >= 6 && bytes.toString('latin1', 0, 4) === 'GIF8',
  }),
);
