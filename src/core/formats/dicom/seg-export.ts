/**
 * The `dicom-seg` export format: one binary DICOM SEG per image (one segment, SNOMED CT coded,
 * MANUAL for ground truth and corrections, AUTOMATIC with the model version as algorithm name for
 * predictions), referencing its source image's study, series and SOP instance; a new series per
 * export. An image that came from a PNG (or any non-DICOM file) has no UIDs to reference, so a
 * Secondary Capture of it is written beside its SEG, with UIDs derived from the image's content
 * (the same in every export). `deidentify` applies PS3.15 Annex E's basic profile to both.
 */
import type { ExportOptions, SegmentLabel } from '../../../shared/export-schemas';
import { sanitiseSegment, type QataNames } from '../names';
import type {
  DecodedImage,
  ExportFormatDefinition,
  ExportImage,
  ExportTarget,
  PlannedFile,
} from '../registry';
import { Deidentifier } from './deidentify';
import { parseDicom, TAG, text } from './parse';
import {
  newUid,
  secondaryCaptureDataset,
  segmentationDataset,
  stableUid,
  writeDataset,
  type Dataset,
  type PatientStudy,
  type SegmentationInput,
} from './write';

/** Series Number of exported SEGs (viewers list series by number; derived objects sort late). */
const SEG_SERIES_NUMBER = 9100;

/** What one export shares across its files: the new series, the time, the UID replacements. */
interface ExportSession {
  seriesInstanceUid: string;
  created: Date;
  instance: number;
  deidentifier: Deidentifier | null;
}

const sessions = new WeakMap<ExportOptions, ExportSession>();

function sessionOf(options: ExportOptions): ExportSession {
  let session = sessions.get(options);
  if (!session) {
    session = {
      seriesInstanceUid: newUid(),
      created: new Date(),
      instance: 0,
      deidentifier: options.deidentify ? new Deidentifier() : null,
    };
    sessions.set(options, session);
  }
  return session;
}

export function segFileOf(names: QataNames): string {
  return [...names.folder, 'Segmentations', `seg_${sanitiseSegment(names.stem)}.dcm`].join('/');
}

export function secondaryCaptureFileOf(names: QataNames): string {
  return [...names.folder, 'Secondary-captures', `sc_${sanitiseSegment(names.stem)}.dcm`].join('/');
}

function isDicomImage(image: Pick<ExportImage, 'format'>): boolean {
  return image.format === 'dicom';
}

/** The segment label with its colour as RGB, as the SEG writer takes it. */
export function segmentLabelRgb({ name, colour }: SegmentLabel): {
  name: string;
  colour: [number, number, number];
} {
  const value = parseInt(colour.slice(1), 16);
  return { name, colour: [(value >> 16) & 255, (value >> 8) & 255, value & 255] };
}

/** The source's Patient and Study attributes and references, read from the DICOM file itself. */
export function dicomSource(bytes: Uint8Array): SegmentationInput['source'] {
  const { dataset } = parseDicom(bytes);
  const get = (tag: string) => text(dataset, tag);
  const patientStudy: PatientStudy = {
    PatientName: get('x00100010'),
    PatientID: get(TAG.PatientID),
    PatientBirthDate: get('x00100030'),
    PatientSex: get('x00100040'),
    StudyInstanceUID: get(TAG.StudyInstanceUID),
    StudyDate: get(TAG.StudyDate),
    StudyTime: get('x00080030'),
    ReferringPhysicianName: get('x00080090'),
    StudyID: get('x00200010'),
    AccessionNumber: get('x00080050'),
  };
  const frameOfReference = get('x00200052');
  return {
    ...patientStudy,
    SOPClassUID: get(TAG.SOPClassUID),
    SOPInstanceUID: get(TAG.SOPInstanceUID),
    SeriesInstanceUID: get(TAG.SeriesInstanceUID),
    ...(frameOfReference ? { FrameOfReferenceUID: frameOfReference } : {}),
  };
}

/**
 * The Secondary Capture of an image that has no DICOM header (a PNG of the dataset), with UIDs
 * derived from the image's content (the same in every export and every send), and the source
 * attributes a SEG referencing it takes.
 */
export function secondaryCaptureOf(
  image: Pick<ExportImage, 'sha256' | 'name' | 'createdAt'>,
  gray: Pick<DecodedImage, 'data' | 'width' | 'height' | 'bitDepth'>,
): { dataset: Dataset; source: SegmentationInput['source'] } {
  const key = `qataseg-secondary-capture:${image.sha256}`;
  const dataset = secondaryCaptureDataset({
    data: gray.data,
    rows: gray.height,
    columns: gray.width,
    bitDepth: gray.bitDepth,
    studyInstanceUid: stableUid(`${key}:study`),
    seriesInstanceUid: stableUid(`${key}:series`),
    sopInstanceUid: stableUid(`${key}:instance`),
    description: image.name,
    created: new Date(image.createdAt),
  });
  const source = {
    PatientName: '',
    PatientID: '',
    PatientBirthDate: '',
    PatientSex: '',
    StudyInstanceUID: dataset.StudyInstanceUID as string,
    StudyDate: dataset.StudyDate as string,
    StudyTime: dataset.StudyTime as string,
    ReferringPhysicianName: '',
    StudyID: '',
    AccessionNumber: '',
    SOPClassUID: dataset.SOPClassUID as string,
    SOPInstanceUID: dataset.SOPInstanceUID as string,
    SeriesInstanceUID: dataset.SeriesInstanceUID as string,
  };
  return { dataset, source };
}

export const dicomSegFormat: ExportFormatDefinition = {
  id: 'dicom-seg',
  label: 'DICOM SEG',
  imageFiles: ({ image, names }: ExportTarget): PlannedFile[] => [
    { file: segFileOf(names), role: 'mask' },
    ...(isDicomImage(image)
      ? []
      : [{ file: secondaryCaptureFileOf(names), role: 'image' as const }]),
  ],
  render: async ({
    segmentLabel: label,
    image,
    options,
    revision,
    mask,
    recordedPixelSpacing,
    readImageFile,
    readImage,
  }) => {
    const session = sessionOf(options);
    let bytes: Buffer;
    try {
      bytes = await readImageFile();
    } catch {
      return { reason: 'image file unreadable: a SEG needs the source image it references' };
    }
    const data: Uint8Array[] = [];
    let source: SegmentationInput['source'];
    let pixelSpacing: [number, number] | null = null;
    if (isDicomImage(image)) {
      source = dicomSource(bytes);
      pixelSpacing = recordedPixelSpacing;
    } else {
      const { dataset: capture, source: captured } = secondaryCaptureOf(image, await readImage());
      source = captured;
      data.push(writeDataset(session.deidentifier?.apply(capture) ?? capture));
    }
    if (mask.width !== image.width || mask.height !== image.height)
      return {
        reason: `mask is ${mask.width}x${mask.height} but the image is ${image.width}x${image.height}`,
      };
    session.instance++;
    const segmentation = segmentationDataset({
      source,
      rows: mask.height,
      columns: mask.width,
      mask: mask.binary,
      pixelSpacing,
      segment: { label: label.name, colour: label.colour },
      algorithm:
        revision.source === 'prediction'
          ? { type: 'AUTOMATIC', name: revision.modelVersion ?? 'unknown model' }
          : { type: 'MANUAL' },
      contentCreator: revision.author,
      contentLabel: 'SEGMENTATION',
      contentDescription: revision.description
        ? `${label.name} segmentation, ${revision.description}`
        : undefined,
      created: session.created,
      seriesInstanceUid: session.seriesInstanceUid,
      sopInstanceUid: newUid(),
      seriesNumber: SEG_SERIES_NUMBER,
      instanceNumber: session.instance,
    });
    // The SEG first: it is the mask file; the Secondary Capture (if any) is the image file.
    data.unshift(writeDataset(session.deidentifier?.apply(segmentation) ?? segmentation));
    return { data };
  },
};
