/** JPEG (baseline and progressive, 8-bit) through sharp. */
import { registerImageDecoder } from './registry';
import { sharpDecoder } from './sharp-pixels';

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

registerImageDecoder(
  sharpDecoder({
    id: 'jpeg',
    label: 'JPEG',
    extensions: ['.jpg', '.jpeg'],
    sniff: isJpeg,
    check: (bytes) => {
      if (!endsWithJpegEoi(bytes)) throw new Error('truncated JPEG (no EOI)');
    },
  }),
);
