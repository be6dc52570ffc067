/**
 * Decoders of compressed pixel data, each from a maintained package that runs in plain Node
 * (WebAssembly or JavaScript, no native build): CharLS (JPEG-LS) and OpenJPEG (JPEG 2000) as
 * Cornerstone's wasm builds, sharp's libjpeg-turbo for JPEG baseline, dcmjs-codecs' libjpeg-turbo
 * (8/12/16-bit, wasm) for JPEG Extended (process 2 & 4, 12-bit lossy) and JPEG Lossless
 * (process 14). RLE Lossless (PS3.5 Annex G) is a few lines and is here. Measured choice: see
 * docs/ARCHITECTURE.md (DICOM decoding).
 *
 * Each returns the frame's samples as the words of its Bits Allocated (8 or 16), in little
 * endian order, the same layout as native pixel data.
 */
import charlsFactory from '@cornerstonejs/codec-charls/decodewasmjs';
import openjpegFactory from '@cornerstonejs/codec-openjpeg/decodewasmjs';
import dcmjsCodecs from 'dcmjs-codecs';
import sharp from 'sharp';

// The Emscripten builds print progress to stdout unless given somewhere else to print.
const quiet = { print: () => undefined, printErr: () => undefined };
let charls: ReturnType<typeof charlsFactory> | undefined;
let openjpeg: ReturnType<typeof openjpegFactory> | undefined;

function runWasmDecoder(decoder: CornerstoneDecoder, encoded: Uint8Array): Uint8Array {
  try {
    decoder.getEncodedBuffer(encoded.length).set(encoded);
    decoder.decode();
    // Copy out of the wasm heap before the decoder (and its buffer) is freed.
    return new Uint8Array(decoder.getDecodedBuffer());
  } finally {
    decoder.delete();
  }
}

export async function decodeJpegLs(encoded: Uint8Array): Promise<Uint8Array> {
  charls ??= charlsFactory(quiet);
  const codec = await charls;
  return runWasmDecoder(new codec.JpegLSDecoder(), encoded);
}

export async function decodeJpeg2000(encoded: Uint8Array): Promise<Uint8Array> {
  openjpeg ??= openjpegFactory(quiet);
  const codec = await openjpeg;
  return runWasmDecoder(new codec.J2KDecoder(), encoded);
}

let nativeCodecs: Promise<void> | undefined;

/** A frame's geometry as the dcmjs-codecs decoders want it. */
export interface FrameGeometry {
  width: number;
  height: number;
  bitsAllocated: number;
  bitsStored: number;
  signed: boolean;
}

/**
 * JPEG Extended (process 2 & 4, 8- or 12-bit lossy) and JPEG Lossless (process 14, up to 16
 * bits): dcmjs-codecs' libjpeg-turbo (wasm). sharp's libjpeg-turbo is built for 8 bits only.
 */
export async function decodeJpegExtended(
  encoded: Uint8Array,
  frame: FrameGeometry,
): Promise<Uint8Array> {
  const { NativeCodecs, Context } = dcmjsCodecs;
  nativeCodecs ??= NativeCodecs.initializeAsync();
  await nativeCodecs;
  const context = new Context({
    width: frame.width,
    height: frame.height,
    bitsAllocated: frame.bitsAllocated,
    bitsStored: frame.bitsStored,
    samplesPerPixel: 1,
    pixelRepresentation: frame.signed ? 1 : 0,
    photometricInterpretation: 'MONOCHROME2',
    encodedBuffer: encoded,
  });
  const decoded = NativeCodecs.decodeJpeg(context).getDecodedBuffer();
  if (!decoded) throw new Error('the JPEG decoder returned no pixels');
  return decoded;
}

/** JPEG Lossless (process 14): through the same libjpeg-turbo, 3x faster than the JS decoder. */
export function decodeJpegLossless(encoded: Uint8Array, frame: FrameGeometry): Promise<Uint8Array> {
  return decodeJpegExtended(encoded, frame);
}

/**
 * JPEG baseline is 8 bits: the gray channel, or for 3 samples RGB interleaved, as decoded by
 * libjpeg-turbo (which turns YCbCr into RGB).
 */
export async function decodeJpegBaseline(encoded: Uint8Array, samples = 1): Promise<Uint8Array> {
  const image = sharp(encoded, { failOn: 'error' });
  const { data } = await (samples === 1 ? image.extractChannel(0) : image.removeAlpha())
    .raw()
    .toBuffer({ resolveWithObject: true });
  return new Uint8Array(data.buffer, data.byteOffset, data.byteLength);
}

/**
 * RLE Lossless (PS3.5 Annex G): a 64-byte header of segment offsets, one PackBits segment per
 * byte plane of each sample, most significant plane first. Samples come out plane by plane.
 */
export function decodeRle(
  encoded: Uint8Array,
  pixels: number,
  bitsAllocated: number,
  samples = 1,
): Uint8Array {
  const view = new DataView(encoded.buffer, encoded.byteOffset, encoded.byteLength);
  if (encoded.length < 64) throw new Error('RLE frame shorter than its header');
  const segments = view.getUint32(0, true);
  const bytesPerSample = bitsAllocated / 8;
  if (segments !== bytesPerSample * samples)
    throw new Error(`RLE frame has ${segments} segments, expected ${bytesPerSample * samples}`);
  const out = new Uint8Array(pixels * bytesPerSample * samples);
  for (let s = 0; s < segments; s++) {
    const start = view.getUint32(4 + 4 * s, true);
    const end = s + 1 < segments ? view.getUint32(8 + 4 * s, true) : encoded.length;
    // Segment s is byte (bytesPerSample - 1 - s % bytesPerSample) of each little-endian word of
    // sample floor(s / bytesPerSample), whose plane starts at `base`.
    const byteIndex = bytesPerSample - 1 - (s % bytesPerSample);
    const base = Math.floor(s / bytesPerSample) * pixels * bytesPerSample;
    let pixel = 0;
    let i = start;
    while (i < end && pixel < pixels) {
      const header = (encoded[i++] << 24) >> 24;
      if (header >= 0) {
        for (let k = 0; k <= header && pixel < pixels; k++)
          out[base + pixel++ * bytesPerSample + byteIndex] = encoded[i++];
      } else if (header !== -128) {
        const value = encoded[i++];
        for (let k = 0; k < 1 - header && pixel < pixels; k++)
          out[base + pixel++ * bytesPerSample + byteIndex] = value;
      }
    }
    if (pixel < pixels) throw new Error(`RLE segment ${s + 1} ends early (truncated frame)`);
  }
  return out;
}
