/**
 * Hostile NIfTI and DICOM files built byte by byte here (not with the code under test): a gzip
 * NIfTI whose header asks for one small slice followed by a GiB of zeros, a NIfTI with a negative
 * dimension, a deflated DICOM with a huge private element, and sequences nested thousands deep.
 * The large parts are streamed through zlib a MiB at a time: the whole is never held.
 */
import { Readable } from 'node:stream';
import { pipeline } from 'node:stream/promises';
import zlib from 'node:zlib';

/** A NIfTI-1 single-file header of one uint8 slice with these dims (dim[0] = rank). */
export function niftiHeader(dims: number[]): Buffer {
  const header = Buffer.alloc(352);
  header.writeInt32LE(348, 0);
  header.writeInt16LE(dims.length, 40);
  dims.forEach((value, index) => header.writeInt16LE(value, 42 + 2 * index));
  header.writeInt16LE(2, 70); // uint8
  header.writeInt16LE(8, 72);
  header.writeFloatLE(352, 108);
  header.write('n+1\0', 344, 'latin1');
  return header;
}

/** Streams `head` then `zeros` zero bytes through a compressor and returns what it made. */
async function compressed(
  head: Buffer,
  zeros: number,
  tail: Buffer,
  compressor: zlib.Gzip | zlib.DeflateRaw,
): Promise<Buffer> {
  const block = Buffer.alloc(1 << 20);
  async function* parts() {
    yield head;
    for (let left = zeros; left > 0; left -= block.length) {
      yield block.subarray(0, Math.min(left, block.length));
    }
    yield tail;
  }
  const out: Buffer[] = [];
  await pipeline(Readable.from(parts()), compressor, async (stream) => {
    for await (const part of stream) out.push(part as Buffer);
  });
  return Buffer.concat(out);
}

/** A .nii.gz: this header and its slice, then `extraZeros` bytes no header asked for. */
export function gzipNifti(header: Buffer, slice: Buffer, extraZeros: number): Promise<Buffer> {
  return compressed(
    Buffer.concat([header, slice]),
    extraZeros,
    Buffer.alloc(0),
    zlib.createGzip({ level: 9 }),
  );
}

const LONG_VRS = new Set(['OB', 'OW', 'OF', 'SQ', 'UT', 'UN', 'UC', 'UR']);

/** One explicit VR little endian element. `length` overrides the value's length (undefined: -1). */
export function element(tag: string, vr: string, value: Buffer | string, length?: number): Buffer {
  const data =
    typeof value === 'string'
      ? Buffer.from(value.length % 2 ? `${value}${vr === 'UI' ? '\0' : ' '}` : value, 'latin1')
      : value;
  const group = parseInt(tag.slice(0, 4), 16);
  const number = parseInt(tag.slice(4), 16);
  const long = LONG_VRS.has(vr);
  const head = Buffer.alloc(long ? 12 : 8);
  head.writeUInt16LE(group, 0);
  head.writeUInt16LE(number, 2);
  head.write(vr, 4, 'latin1');
  if (long) head.writeUInt32LE(length ?? data.length, 8);
  else head.writeUInt16LE(length ?? data.length, 6);
  return Buffer.concat([head, data]);
}

const us = (value: number) => {
  const buffer = Buffer.alloc(2);
  buffer.writeUInt16LE(value);
  return buffer;
};

const SECONDARY_CAPTURE = '1.2.840.10008.5.1.4.1.1.7';

/** Preamble, DICM and the file meta group for this transfer syntax. */
function fileMeta(instance: string, transferSyntax: string): Buffer {
  const body = Buffer.concat([
    element('00020001', 'OB', Buffer.from([0, 1])),
    element('00020002', 'UI', SECONDARY_CAPTURE),
    element('00020003', 'UI', instance),
    element('00020010', 'UI', transferSyntax),
  ]);
  const length = Buffer.alloc(4);
  length.writeUInt32LE(body.length);
  return Buffer.concat([
    Buffer.alloc(128),
    Buffer.from('DICM', 'latin1'),
    element('00020000', 'UL', length),
    body,
  ]);
}

/** The data set of a size x size 8-bit gray Secondary Capture up to (not including) group 0029. */
function imageModules(instance: string, size: number): Buffer {
  return Buffer.concat([
    element('00080016', 'UI', SECONDARY_CAPTURE),
    element('00080018', 'UI', instance),
    element('00080060', 'CS', 'OT'),
    element('00100020', 'LO', `PAT${instance.slice(-4)}`),
    element('0020000D', 'UI', `${instance}.1`),
    element('0020000E', 'UI', `${instance}.2`),
    element('00280002', 'US', us(1)),
    element('00280004', 'CS', 'MONOCHROME2'),
    element('00280010', 'US', us(size)),
    element('00280011', 'US', us(size)),
    element('00280100', 'US', us(8)),
    element('00280101', 'US', us(8)),
    element('00280102', 'US', us(7)),
    element('00280103', 'US', us(0)),
  ]);
}

/**
 * A Deflated Explicit VR Little Endian DICOM image whose data set holds a private OB element of
 * `privateBytes` zeros before the pixel data (0: none, an ordinary deflated file).
 */
export async function deflatedDicom(
  instance: string,
  size: number,
  privateBytes: number,
): Promise<Buffer> {
  const pixels = Buffer.alloc(size * size, 0x40);
  const head = Buffer.concat([
    imageModules(instance, size),
    ...(privateBytes > 0
      ? [
          element('00290010', 'LO', 'BOMB'),
          element('00291010', 'OB', Buffer.alloc(0), privateBytes),
        ]
      : []),
  ]);
  const tail = element('7FE00010', 'OB', pixels);
  const deflated = await compressed(head, privateBytes, tail, zlib.createDeflateRaw({ level: 9 }));
  return Buffer.concat([fileMeta(instance, '1.2.840.10008.1.2.1.99'), deflated]);
}

/** An explicit VR little endian DICOM image with `depth` sequences nested in one another. */
export function nestedSequencesDicom(instance: string, size: number, depth: number): Buffer {
  const UNDEFINED = 0xffffffff;
  const open = Buffer.concat([
    element('0040A730', 'SQ', Buffer.alloc(0), UNDEFINED),
    itemTag(0xe000, UNDEFINED),
  ]);
  const close = Buffer.concat([itemTag(0xe00d, 0), itemTag(0xe0dd, 0)]);
  return Buffer.concat([
    fileMeta(instance, '1.2.840.10008.1.2.1'),
    imageModules(instance, size),
    ...Array.from({ length: depth }, () => open),
    ...Array.from({ length: depth }, () => close),
    element('7FE00010', 'OB', Buffer.alloc(size * size, 0x40)),
  ]);
}

function itemTag(number: number, length: number): Buffer {
  const buffer = Buffer.alloc(8);
  buffer.writeUInt16LE(0xfffe, 0);
  buffer.writeUInt16LE(number, 2);
  buffer.writeUInt32LE(length, 4);
  return buffer;
}

/**
 * A DICOM image of `transferSyntax` whose encapsulated pixel data is the one fragment given
 * (an empty basic offset table, the fragment padded to even length, the sequence delimiter).
 */
export function encapsulatedDicom(
  instance: string,
  size: number,
  transferSyntax: string,
  fragment: Buffer,
): Buffer {
  const even = fragment.length % 2 ? Buffer.concat([fragment, Buffer.alloc(1)]) : fragment;
  return Buffer.concat([
    fileMeta(instance, transferSyntax),
    imageModules(instance, size),
    element('7FE00010', 'OB', Buffer.alloc(0), 0xffffffff),
    itemTag(0xe000, 0),
    itemTag(0xe000, even.length),
    even,
    itemTag(0xe0dd, 0),
  ]);
}
