/**
 * Hand-made PNGs that lie (built byte by byte here, not with the code under test): a
 * decompression bomb (a small file whose image data inflates to width x height bytes), a header
 * that claims a size its data does not have, and image data that inflates past the declared size.
 */
import { Readable } from 'node:stream';
import { pipeline } from 'node:stream/promises';
import zlib from 'node:zlib';

const SIGNATURE = Buffer.from([0x89, 0x50, 0x4e, 0x47, 0x0d, 0x0a, 0x1a, 0x0a]);

function chunk(type: string, data: Buffer): Buffer {
  const length = Buffer.alloc(4);
  length.writeUInt32BE(data.length);
  const body = Buffer.concat([Buffer.from(type, 'latin1'), data]);
  const crc = Buffer.alloc(4);
  crc.writeUInt32BE(zlib.crc32(body));
  return Buffer.concat([length, body, crc]);
}

/** A PNG with this IHDR (8-bit; colour type 0 gray, 2 RGB) and these IDAT bytes, CRCs right. */
export function pngWith(width: number, height: number, idat: Buffer, colorType = 0): Buffer {
  const ihdr = Buffer.alloc(13);
  ihdr.writeUInt32BE(width, 0);
  ihdr.writeUInt32BE(height, 4);
  ihdr[8] = 8;
  ihdr[9] = colorType;
  return Buffer.concat([
    SIGNATURE,
    chunk('IHDR', ihdr),
    chunk('IDAT', idat),
    chunk('IEND', Buffer.alloc(0)),
  ]);
}

/** zlib data of `bytes` zero bytes, deflated a MiB at a time (the whole is never held). */
export async function deflatedZeros(bytes: number): Promise<Buffer> {
  const block = Buffer.alloc(1 << 20);
  async function* zeros() {
    for (let left = bytes; left > 0; left -= block.length) {
      yield block.subarray(0, Math.min(left, block.length));
    }
  }
  const parts: Buffer[] = [];
  await pipeline(Readable.from(zeros()), zlib.createDeflate({ level: 9 }), async (deflated) => {
    for await (const part of deflated) parts.push(part as Buffer);
  });
  return Buffer.concat(parts);
}

/** A gray PNG that claims width x height and whose data inflates to all of it (zeros). */
export async function pngBomb(width: number, height: number): Promise<Buffer> {
  return pngWith(width, height, await deflatedZeros((width + 1) * height));
}
