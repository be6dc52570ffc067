/**
 * NIfTI export: each image and its mask as gzipped NIfTI-1 files, 2D as a single slice, pixel
 * spacing in the header where the image file gives it. QaTa layout names with .nii.gz:
 * `<folder>/Images/<stem>.nii.gz` (the image at its own bit depth, 8 or 16) and
 * `<folder>/Ground-truths/mask_<stem>.nii.gz` (uint8, 0 background / 1 foreground).
 */
import { MaskSizeMismatchError } from './mask-decode';
import { sanitiseSegment } from './names';
import { decodeNifti, encodeNiftiGz } from './nifti-codec';
import { registerExportFormat, registerMaskReader, type MaskReadOptions } from './registry';

/** True for an uncompressed NIfTI-1 file: "n+1" (or "ni1") at offset 344. */
function isNifti1(bytes: Buffer): boolean {
  if (bytes.length < 348) return false;
  const magic = bytes.toString('latin1', 344, 348);
  return magic === 'n+1\0' || magic === 'ni1\0';
}

/**
 * A NIfTI mask or probability map (.nii, .nii.gz): one slice, voxel (i, j) = pixel (column i,
 * row j); masks are > 0, probabilities 0..1 (clipped, saying so).
 */
async function readNiftiMask(bytes: Buffer, options: MaskReadOptions = {}) {
  const slice = await decodeNifti(bytes);
  const { expected } = options;
  if (expected && (slice.width !== expected.width || slice.height !== expected.height))
    throw new MaskSizeMismatchError(slice.width, slice.height, expected);
  const values = new Uint8Array(slice.data.length);
  let outside = false;
  let foreground = 0;
  for (let i = 0; i < values.length; i++) {
    const v = slice.data[i];
    if (options.probability) {
      if (v < 0 || v > 1) outside = true;
      values[i] = Math.round(Math.min(1, Math.max(0, v)) * 255);
    } else values[i] = v > 0 ? 255 : 0;
    if (values[i] > 0) foreground++;
  }
  return {
    values,
    width: slice.width,
    height: slice.height,
    foreground,
    // Label maps say foreground by > 0; their values are never "unclean".
    cleanValues: true,
    oneValued: false,
    warning: outside ? 'probabilities outside 0..1 were clipped' : undefined,
  };
}

registerMaskReader({
  id: 'nifti',
  label: 'NIfTI',
  pairing: 'name',
  extensions: ['.nii', '.nii.gz'],
  sniff: isNifti1,
  read: readNiftiMask,
});

registerExportFormat({
  id: 'nifti',
  label: 'NIfTI (.nii.gz image and mask)',
  imageFiles: ({ names }) => [
    {
      file: [...names.folder, 'Ground-truths', sanitiseSegment(`mask_${names.stem}.nii.gz`)].join(
        '/',
      ),
      role: 'mask',
    },
    {
      file: [...names.folder, 'Images', sanitiseSegment(`${names.stem}.nii.gz`)].join('/'),
      role: 'image',
    },
  ],
  render: async ({ image, mask, readImage }) => {
    let decoded;
    try {
      decoded = await readImage();
    } catch (error) {
      return { reason: `image file unreadable: ${(error as Error).message}` };
    }
    if (decoded.width !== mask.width || decoded.height !== mask.height)
      return {
        reason: `image is ${decoded.width}x${decoded.height}, its mask ${mask.width}x${mask.height}`,
      };
    const labels = new Uint8Array(mask.binary.length);
    for (let i = 0; i < labels.length; i++) labels[i] = mask.binary[i] === 0 ? 0 : 1;
    const pixelSpacing = decoded.metadata?.pixelSpacing ?? null;
    return {
      data: [
        await encodeNiftiGz({
          data: labels,
          width: mask.width,
          height: mask.height,
          pixelSpacing,
          description: 'qataseg mask: 0 background, 1 infection',
        }),
        await encodeNiftiGz({
          data: decoded.data,
          width: decoded.width,
          height: decoded.height,
          pixelSpacing,
          description: `qataseg image: ${image.relPath}`,
        }),
      ],
    };
  },
});
