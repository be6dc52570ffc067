/**
 * The words of the Export dialog: what each choice means and, for each format, which files it
 * writes, so the dialog never describes mask PNGs while another format is chosen.
 */
import type { ExportFormat, ExportSource } from '../../../shared/export-schemas';

export const SOURCE_LABELS: Record<ExportSource, string> = {
  best: 'Best (correction, else ground truth, else prediction)',
  corrected: 'Corrected only',
  predicted: 'Predicted (thresholded)',
  'ground-truth': 'Ground truth',
};

export const FORMAT_LABELS: Record<ExportFormat, string> = {
  png: 'PNG 0/255',
  png01: 'PNG 0/1',
  probability: 'Probability map (8-bit)',
  overlay: 'Overlay (image + contour)',
  coco: 'COCO JSON (RLE)',
  nnunet: 'nnU-Net v2 raw dataset',
  nifti: 'NIfTI (.nii.gz image and mask)',
  'dicom-seg': 'DICOM SEG (one per image)',
};

/** The files a format writes, relative to the chosen folder (the QaTa layout where it has one). */
export const FORMAT_WRITES: Record<ExportFormat, string> = {
  png: 'Ground-truths/mask_<stem>.png for each image: 0 background, 255 lesion.',
  png01: 'Ground-truths/mask_<stem>.png for each image: 0 background, 1 lesion.',
  probability:
    'Ground-truths/mask_<stem>.png for each image: the model’s probability scaled to 0–255 (a mask that is not a prediction is written as 0/255).',
  overlay:
    'Overlays/overlay_<stem>.png for each image: the image with the mask’s contour drawn on it.',
  coco: 'annotations.json: one COCO file with an RLE segmentation per image.',
  nnunet:
    'Dataset<NNN>_<NAME>/ with imagesTr, labelsTr, imagesTs, labelsTs, dataset.json and splits_final.json (nnU-Net v2 raw layout).',
  nifti: 'Images/<stem>.nii.gz and Ground-truths/mask_<stem>.nii.gz for each image (uint8, 0/1).',
  'dicom-seg':
    'Segmentations/seg_<stem>.dcm for each image: a DICOM SEG referencing its source image; images that are not DICOM also get Secondary-captures/sc_<stem>.dcm.',
};

export const MANIFEST_NOTE =
  'manifest.csv lists every written file with its SHA-256. Existing files are never replaced unless you allow it.';
