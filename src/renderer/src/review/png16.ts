/**
 * Decodes greyscale PNGs at full bit depth. Browsers decode images to 8 bits per channel, which
 * would throw away what window/level is for on 16-bit radiographs; this reads the PNG itself
 * (zlib through DecompressionStream, then the five scanline filters). Handles non-interlaced
 * greyscale and greyscale+alpha at 8 or 16 bits, which is what the host's image route sends;
 * anything else returns null and the caller falls back to the browser's decoder.
 */

export interface DecodedGrey {
  width: number;
  height: number;
  bitDepth: 8 | 16;
  /** One value per pixel: 0..255 or 0..65535. */
  data: Uint8Array | Uint16Array;
}

const SIGNATURE = [137, 80, 78, 71, 13, 10, 26, 10];

async function inflate(compressed: Uint8Array): Promise<Uint8Array> {
  const stream = new Blob([compressed as BlobPart])
    .stream()
    .pipeThrough(new DecompressionStream('deflate'));
  return new Uint8Array(await new Response(stream).arrayBuffer());
}

function paeth(a: number, b: number, c: number): number {
  const p = a + b - c;
  const pa = Math.abs(p - a);
  const pb = Math.abs(p - b);
  const pc = Math.abs(p - c);
  return pa <= pb && pa <= pc ? a : pb <= pc ? b : c;
}

export async function decodeGreyPng(bytes: Uint8Array): Promise<DecodedGrey | null> {
  if (bytes.length < 8 || SIGNATURE.some((v, i) => bytes[i] !== v)) return null;
  const view = new DataView(bytes.buffer, bytes.byteOffset, bytes.byteLength);
  let offset = 8;
  let width = 0;
  let height = 0;
  let bitDepth = 0;
  let colourType = -1;
  let interlace = 0;
  const idat: Uint8Array[] = [];
  while (offset + 8 <= bytes.length) {
    const length = view.getUint32(offset);
    const type = String.fromCharCode(...bytes.subarray(offset + 4, offset + 8));
    const body = bytes.subarray(offset + 8, offset + 8 + length);
    if (type === 'IHDR') {
      width = view.getUint32(offset + 8);
      height = view.getUint32(offset + 12);
      bitDepth = body[8];
      colourType = body[9];
      interlace = body[12];
    } else if (type === 'IDAT') {
      idat.push(body);
    } else if (type === 'IEND') {
      break;
    }
    offset += 12 + length;
  }
  // Greyscale (0) or greyscale+alpha (4), 8 or 16 bits, not interlaced.
  if ((colourType !== 0 && colourType !== 4) || (bitDepth !== 8 && bitDepth !== 16)) return null;
  if (interlace !== 0 || width === 0 || height === 0) return null;
  const total = idat.reduce((n, part) => n + part.length, 0);
  const compressed = new Uint8Array(total);
  let at = 0;
  for (const part of idat) {
    compressed.set(part, at);
    at += part.length;
  }
  const raw = await inflate(compressed);
  const channels = colourType === 4 ? 2 : 1;
  const bytesPerPixel = (channels * bitDepth) / 8;
  const stride = width * bytesPerPixel;
  if (raw.length < height * (stride + 1)) return null;
  const previous = new Uint8Array(stride);
  const line = new Uint8Array(stride);
  const data = bitDepth === 16 ? new Uint16Array(width * height) : new Uint8Array(width * height);
  for (let y = 0; y < height; y++) {
    const start = y * (stride + 1);
    const filter = raw[start];
    for (let x = 0; x < stride; x++) {
      const value = raw[start + 1 + x];
      const left = x >= bytesPerPixel ? line[x - bytesPerPixel] : 0;
      const up = previous[x];
      const upLeft = x >= bytesPerPixel ? previous[x - bytesPerPixel] : 0;
      let predicted = 0;
      if (filter === 1) predicted = left;
      else if (filter === 2) predicted = up;
      else if (filter === 3) predicted = (left + up) >> 1;
      else if (filter === 4) predicted = paeth(left, up, upLeft);
      line[x] = (value + predicted) & 0xff;
    }
    const row = y * width;
    if (bitDepth === 16) {
      for (let x = 0; x < width; x++) {
        const i = x * bytesPerPixel;
        data[row + x] = (line[i] << 8) | line[i + 1];
      }
    } else {
      for (let x = 0; x < width; x++) data[row + x] = line[x * bytesPerPixel];
    }
    previous.set(line);
  }
  return { width, height, bitDepth, data };
}
