/**
 * NIfTI export: each image and its mask as gzipped NIfTI-1 files, 2D as a single slice, pixel
 * spacing in the header where the image file gives it. QaTa layout names with .nii.gz:
 * `<folder>/Images/<stem>.nii.gz` (the image at its own bit depth, 8 or 16) and
 * `<folder>/Ground-truths/mask_<stem>.nii.gz` (uint8, 0 background / 1 foreground).
 */
import { sanitiseSegment } from './names';
import { encodeNiftiGz } from './nifti-codec';
import { registerExportFormat } from './registry';

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
