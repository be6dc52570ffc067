/**
 * Every file-format module, registered on import of this file; callers ask through the registry's
 * functions re-exported here. A new format is a module here plus, for an export format, its id
 * in the contract's exportFormatSchema.
 */
import './png';
import './png-mask';
import './jpeg';
import './tiff';
import './bmp';
import './web-images';
import './coco';
import './nifti';
import './nnunet';
import './dicom';

export * from './registry';
export { MaskSizeMismatchError } from './mask-decode';
