/**
 * DICOM: registers the image decoder (Part 10 files) and the `dicom-seg` export format with the
 * formats registry.
 */
import { registerExportFormat, registerImageDecoder } from '../registry';
import { dicomDecoder } from './decoder';
import { dicomSegFormat } from './seg-export';

registerImageDecoder(dicomDecoder);
registerExportFormat(dicomSegFormat);
