/**
 * DICOM: registers the image decoder (Part 10 files), the `dicom-seg` export format and the SEG
 * mask reader (paired by the SOP Instance UIDs its frames reference) with the formats registry.
 */
import { registerExportFormat, registerImageDecoder, registerMaskReader } from '../registry';
import { DICOM_EXTENSIONS, dicomDecoder, probeDicom } from './decoder';
import { isDicom } from './parse';
import { dicomSegFormat } from './seg-export';
import { readSegmentation, segmentationReferences } from './seg-read';

registerImageDecoder(dicomDecoder);
registerExportFormat(dicomSegFormat);
registerMaskReader({
  id: 'dicom-seg',
  label: 'DICOM SEG',
  pairing: 'reference',
  extensions: [...DICOM_EXTENSIONS],
  sniff(bytes) {
    if (!isDicom(bytes)) return false;
    try {
      return probeDicom(bytes).kind === 'segmentation';
    } catch {
      return false;
    }
  },
  references: segmentationReferences,
  readAll(bytes) {
    const segmentation = readSegmentation(bytes);
    return { width: segmentation.columns, height: segmentation.rows, masks: segmentation.masks };
  },
});
