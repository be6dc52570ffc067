/**
 * NIfTI-1 single files (.nii, and .nii.gz through zlib): a 2D image is one slice of a volume
 * [width, height, 1]. Voxel (i, j, 0) is pixel (column i, row j), so the first axis runs fastest as
 * in a row-major image; pixel spacing, where known, goes into pixdim (millimetres) and a scaling
 * sform. Reading accepts what other tools write for 2D data (nnU-Net, nibabel, ITK): rank 2 or a
 * single slice, the common integer and float types, scl_slope/scl_inter, either byte order.
 */
import { promisify } from 'node:util';
import zlib from 'node:zlib';
import { MAX_DECODABLE_PIXELS } from '../../shared/dataset-schemas';

const gzip = promisify(zlib.gzip);

const HEADER_BYTES = 348;
/** Header plus the 4-byte extension flag: where the voxels start in a single file. */
const VOXEL_OFFSET = 352;
const NIFTI_UNITS_MM = 2;
const NIFTI_XFORM_SCANNER_ANAT = 1;

/** NIfTI datatype codes with their byte size and reader. */
const DATATYPES: Record<number, { bytes: number; name: string }> = {
  2: { bytes: 1, name: 'uint8' },
  4: { bytes: 2, name: 'int16' },
  8: { bytes: 4, name: 'int32' },
  16: { bytes: 4, name: 'float32' },
  64: { bytes: 8, name: 'float64' },
  256: { bytes: 1, name: 'int8' },
  512: { bytes: 2, name: 'uint16' },
  768: { bytes: 4, name: 'uint32' },
};

export interface NiftiSlice {
  width: number;
  height: number;
  /** Row-major values after scl_slope / scl_inter. */
  data: Float64Array;
  /** The stored type (uint8, uint16, float32, ...). */
  type: string;
  /** [row spacing, column spacing] in mm when the file gives them. */
  pixelSpacing: [number, number] | null;
}

export interface NiftiEncodeInput {
  data: Uint8Array | Uint16Array;
  width: number;
  height: number;
  /** [row spacing, column spacing] in millimetres, when known. */
  pixelSpacing?: [number, number] | null;
  description?: string;
}

/** A gzip-compressed NIfTI-1 file (.nii.gz) of one 2D slice, uint8 or uint16 (zlib off the event loop). */
export async function encodeNiftiGz(input: NiftiEncodeInput): Promise<Buffer> {
  const { data, width, height } = input;
  if (data.length !== width * height)
    throw new Error(`${data.length} values for a ${width}x${height} image`);
  const sixteen = data instanceof Uint16Array;
  const header = Buffer.alloc(VOXEL_OFFSET);
  header.writeInt32LE(HEADER_BYTES, 0);
  [3, width, height, 1, 1, 1, 1, 1].forEach((dim, i) => header.writeInt16LE(dim, 40 + 2 * i));
  header.writeInt16LE(sixteen ? 512 : 2, 70); // datatype
  header.writeInt16LE(sixteen ? 16 : 8, 72); // bitpix
  const [rowSpacing, columnSpacing] = input.pixelSpacing ?? [1, 1];
  // pixdim[0] is qfac; then x (column), y (row), z spacing.
  [1, columnSpacing, rowSpacing, 1, 0, 0, 0, 0].forEach((value, i) =>
    header.writeFloatLE(value, 76 + 4 * i),
  );
  header.writeFloatLE(VOXEL_OFFSET, 108); // vox_offset
  header.writeFloatLE(1, 112); // scl_slope
  header.writeFloatLE(0, 116); // scl_inter
  header.writeUInt8(input.pixelSpacing ? NIFTI_UNITS_MM : 0, 123); // xyzt_units
  header.write((input.description ?? '').slice(0, 79), 148, 'latin1');
  if (input.pixelSpacing) {
    // sform: voxel (i, j, k) -> (i * column spacing, j * row spacing, k) mm.
    header.writeInt16LE(NIFTI_XFORM_SCANNER_ANAT, 254);
    [columnSpacing, 0, 0, 0].forEach((v, i) => header.writeFloatLE(v, 280 + 4 * i));
    [0, rowSpacing, 0, 0].forEach((v, i) => header.writeFloatLE(v, 296 + 4 * i));
    [0, 0, 1, 0].forEach((v, i) => header.writeFloatLE(v, 312 + 4 * i));
  }
  header.write('n+1\0', 344, 'latin1');
  const voxels = Buffer.from(data.buffer, data.byteOffset, data.byteLength);
  // Uint16Array is the platform's order; NIfTI here is little-endian (every platform we ship on).
  return gzip(Buffer.concat([header, voxels]), { level: 6 });
}

const isGzip = (bytes: Buffer) => bytes.length > 2 && bytes[0] === 0x1f && bytes[1] === 0x8b;

/** Where a single file's slice lies, from its header (checked: nothing is allocated yet). */
interface NiftiLayout {
  little: boolean;
  width: number;
  height: number;
  type: { bytes: number; name: string };
  offset: number;
  /** Bytes of the file the slice needs: the header, any extensions, and the voxels. */
  needed: number;
}

/** Header extensions past this are not a 2D prediction's (the offset is a float a file can lie in). */
const MAX_VOXEL_OFFSET = VOXEL_OFFSET + 16 * 1024 * 1024;

function niftiLayout(bytes: Buffer): NiftiLayout {
  if (bytes.length < HEADER_BYTES) throw new Error('not a NIfTI-1 file (too short)');
  let little = true;
  if (bytes.readInt32LE(0) !== HEADER_BYTES) {
    if (bytes.readInt32BE(0) !== HEADER_BYTES) throw new Error('not a NIfTI-1 file (header size)');
    little = false;
  }
  const int16 = (offset: number) =>
    little ? bytes.readInt16LE(offset) : bytes.readInt16BE(offset);
  const magic = bytes.toString('latin1', 344, 347);
  if (magic !== 'n+1' && magic !== 'ni1') throw new Error('not a NIfTI-1 file (magic)');
  if (magic === 'ni1') throw new Error('a NIfTI header without its image (.hdr/.img pair)');
  const rank = int16(40);
  if (rank < 2 || rank > 7) throw new Error(`NIfTI rank ${rank}`);
  const dims = Array.from({ length: rank }, (_, i) => int16(42 + 2 * i));
  const wrong = dims.find((dim, index) => dim < 1 && (index < 2 || dim < 0));
  if (wrong !== undefined)
    throw new Error(
      `the NIfTI header gives dimension ${wrong} (dims ${dims.join('x')}); a dimension is a count of voxels, at least 1`,
    );
  const [width, height] = dims;
  const extra = dims.slice(2).reduce((a, b) => a * Math.max(1, b), 1);
  if (extra > 1)
    throw new Error(
      `a volume of ${extra} slices (${dims.join('x')}); a 2D prediction is one slice`,
    );
  if (width * height > MAX_DECODABLE_PIXELS)
    throw new Error(
      `the NIfTI slice is ${width}x${height}, above the limit of ${MAX_DECODABLE_PIXELS} pixels`,
    );
  const code = int16(70);
  const type = DATATYPES[code];
  if (!type) throw new Error(`NIfTI datatype ${code} is not supported`);
  const declared = little ? bytes.readFloatLE(108) : bytes.readFloatBE(108);
  const offset = Math.max(VOXEL_OFFSET, Math.round(Number.isFinite(declared) ? declared : 0));
  if (offset > MAX_VOXEL_OFFSET)
    throw new Error(`the NIfTI voxels start at byte ${offset}, past any 2D slice's header`);
  return { little, width, height, type, offset, needed: offset + width * height * type.bytes };
}

/**
 * Inflates a .nii.gz only as far as its header says the slice needs: the header first, then up to
 * the slice's last voxel; whatever follows is never inflated (a small file of a GiB of zeros
 * after a 224x224 slice stays small in memory).
 */
function gunzipSlice(input: Buffer): Promise<Buffer> {
  return new Promise((resolve, reject) => {
    const gunzip = zlib.createGunzip();
    const parts: Buffer[] = [];
    let length = 0;
    let needed: number | null = null;
    let settled = false;
    const finish = (error: Error | null, result?: Buffer) => {
      if (settled) return;
      settled = true;
      gunzip.destroy();
      if (error) reject(error);
      else resolve(result!);
    };
    gunzip.on('data', (part: Buffer) => {
      parts.push(part);
      length += part.length;
      try {
        if (needed === null && length >= HEADER_BYTES) {
          needed = niftiLayout(Buffer.concat(parts)).needed;
        }
      } catch (error) {
        finish(error as Error);
        return;
      }
      if (needed !== null && length >= needed)
        finish(null, Buffer.concat(parts).subarray(0, needed));
    });
    gunzip.on('error', (error) => finish(error));
    gunzip.on('end', () => finish(null, Buffer.concat(parts)));
    gunzip.end(input);
  });
}

/** Reads one 2D slice from a .nii or .nii.gz; throws with the reason when it is not one. */
export async function decodeNifti(input: Buffer): Promise<NiftiSlice> {
  const bytes = isGzip(input) ? await gunzipSlice(input) : input;
  const { little, width, height, type, offset } = niftiLayout(bytes);
  const int16 = (at: number) => (little ? bytes.readInt16LE(at) : bytes.readInt16BE(at));
  const float = (at: number) => (little ? bytes.readFloatLE(at) : bytes.readFloatBE(at));
  const count = width * height;
  if (offset + count * type.bytes > bytes.length) throw new Error('the NIfTI file ends early');
  const slope = float(112);
  const intercept = float(116);
  const scale = Number.isFinite(slope) && slope !== 0 ? slope : 1;
  const shift = Number.isFinite(intercept) && slope !== 0 ? intercept : 0;
  const data = new Float64Array(count);
  for (let i = 0; i < count; i++) {
    const at = offset + i * type.bytes;
    let value: number;
    switch (type.name) {
      case 'uint8':
        value = bytes[at];
        break;
      case 'int8':
        value = bytes.readInt8(at);
        break;
      case 'int16':
        value = int16(at);
        break;
      case 'uint16':
        value = little ? bytes.readUInt16LE(at) : bytes.readUInt16BE(at);
        break;
      case 'int32':
        value = little ? bytes.readInt32LE(at) : bytes.readInt32BE(at);
        break;
      case 'uint32':
        value = little ? bytes.readUInt32LE(at) : bytes.readUInt32BE(at);
        break;
      case 'float32':
        value = float(at);
        break;
      default:
        value = little ? bytes.readDoubleLE(at) : bytes.readDoubleBE(at);
    }
    data[i] = value * scale + shift;
  }
  const units = bytes[123] & 0x07;
  const columnSpacing = float(80);
  const rowSpacing = float(84);
  const spacingKnown = units === NIFTI_UNITS_MM && columnSpacing > 0 && rowSpacing > 0;
  return {
    width,
    height,
    data,
    type: type.name,
    pixelSpacing: spacingKnown ? [rowSpacing, columnSpacing] : null,
  };
}
