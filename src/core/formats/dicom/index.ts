/** DICOM: registers the image decoder (Part 10 files) with the formats registry. */
import { registerImageDecoder } from '../registry';
import { dicomDecoder } from './decoder';

registerImageDecoder(dicomDecoder);
