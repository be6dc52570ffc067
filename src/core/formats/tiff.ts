/** TIFF and BigTIFF (8/16-bit gray, RGB, RGBA; little- and big-endian) through sharp. */
import { registerImageDecoder } from './registry';
import { sharpDecoder } from './sharp-pixels';

export function isTiff(bytes: Buffer): boolean {
  if (bytes.length < 4) return false;
  // 42 marks TIFF, 43 BigTIFF.
  const little =
    bytes[0] === 0x49 &&
    bytes[1] === 0x49 &&
    (bytes[2] === 0x2a || bytes[2] === 0x2b) &&
    bytes[3] === 0;
  const big =
    bytes[0] === 0x4d &&
    bytes[1] === 0x4d &&
    bytes[2] === 0 &&
    (bytes[3] === 0x2a || bytes[3] === 0x2b);
  return little || big;
}

registerImageDecoder(
  sharpDecoder({ id: 'tiff', label: 'TIFF', extensions: ['.tif', '.tiff'], sniff: isTiff }),
);
