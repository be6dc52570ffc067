/** Writers of test image files in formats sharp cannot produce from raw input (16-bit PNG, BMP). */
import fs from 'node:fs';
import path from 'node:path';
import zlib from 'node:zlib';

function chunk(type: string, data: Buffer): Buffer {
  const length = Buffer.alloc(4);
  length.writeUInt32BE(data.length);
  const body = Buffer.concat([Buffer.from(type, 'latin1'), data]);
  const crc = Buffer.alloc(4);
  crc.writeUInt32BE(zlib.crc32(body));
  return Buffer.concat([length, body, crc]);
}

/** A 16-bit gray PNG. */
export function png16(values: Uint16Array, width: number, height: number): Buffer {
  const header = Buffer.alloc(13);
  header.writeUInt32BE(width, 0);
  header.writeUInt32BE(height, 4);
  header[8] = 16; // bit depth
  header[9] = 0; // gray
  const rows = Buffer.alloc(height * (1 + width * 2));
  for (let y = 0; y < height; y++) {
    const row = y * (1 + width * 2);
    for (let x = 0; x < width; x++) rows.writeUInt16BE(values[y * width + x], row + 1 + x * 2);
  }
  return Buffer.concat([
    Buffer.from([0x89, 0x50, 0x4e, 0x47, 0x0d, 0x0a, 0x1a, 0x0a]),
    chunk('IHDR', header),
    chunk('IDAT', zlib.deflateSync(rows)),
    chunk('IEND', Buffer.alloc(0)),
  ]);
}

/** A bottom-up BMP: 8-bit gray palette (channels 1) or 24-bit (channels 3, RGB input). */
export function bmp(pixels: Uint8Array, width: number, height: number, channels: 1 | 3): Buffer {
  const bitCount = channels === 1 ? 8 : 24;
  const stride = Math.ceil((width * bitCount) / 32) * 4;
  const paletteSize = channels === 1 ? 256 * 4 : 0;
  const offset = 14 + 40 + paletteSize;
  const file = Buffer.alloc(offset + stride * height);
  file.write('BM', 0, 'latin1');
  file.writeUInt32LE(file.length, 2);
  file.writeUInt32LE(offset, 10);
  file.writeUInt32LE(40, 14);
  file.writeInt32LE(width, 18);
  file.writeInt32LE(height, 22);
  file.writeUInt16LE(1, 26);
  file.writeUInt16LE(bitCount, 28);
  if (channels === 1) {
    for (let i = 0; i < 256; i++) file.fill(i, 54 + i * 4, 54 + i * 4 + 3);
  }
  for (let y = 0; y < height; y++) {
    const row = offset + (height - 1 - y) * stride;
    for (let x = 0; x < width; x++) {
      if (channels === 1) file[row + x] = pixels[y * width + x];
      else {
        const s = (y * width + x) * 3;
        file[row + x * 3] = pixels[s + 2];
        file[row + x * 3 + 1] = pixels[s + 1];
        file[row + x * 3 + 2] = pixels[s];
      }
    }
  }
  return file;
}

export function writeFile(file: string, data: Buffer | string): void {
  fs.mkdirSync(path.dirname(file), { recursive: true });
  fs.writeFileSync(file, data);
}
