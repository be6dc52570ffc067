/**
 * Writes DICOM Part 10 files with dcmjs: a binary Segmentation (PS3.3 A.51) of one segment per
 * source image, and the Secondary Capture image a SEG references when its source was a PNG.
 * Explicit VR Little Endian; every file is checked by dciodvfy in the tests.
 */
import { createHash, randomUUID } from 'node:crypto';
import dcmjs from 'dcmjs';
import { SECONDARY_CAPTURE_STORAGE, SEGMENTATION_STORAGE } from './parse';

dcmjs.log.setLevel('error');

const EXPLICIT_LITTLE_ENDIAN = '1.2.840.10008.1.2.1';
/** This implementation's class UID (2.25: a UUID as an integer, PS3.5 B.2). */
const IMPLEMENTATION_CLASS_UID = '2.25.160918283315585843914046153493637445390';
const IMPLEMENTATION_VERSION = 'QATASEG_0_1';
export const SOFTWARE_NAME = 'QaTa Seg Workstation';

/** A new UID (2.25 + a random UUID as a decimal integer). */
export function newUid(): string {
  return `2.25.${BigInt(`0x${randomUUID().replace(/-/g, '')}`).toString()}`;
}

/** A UID that is the same every time for the same `key` (2.25 + 128 bits of its SHA-256). */
export function stableUid(key: string): string {
  const hex = createHash('sha256').update(key).digest('hex').slice(0, 32);
  return `2.25.${BigInt(`0x${hex}`).toString()}`;
}

/** DICOM DA and TM of a moment (UTC). */
export function dicomDateTime(date: Date): { date: string; time: string } {
  const iso = date.toISOString();
  return { date: iso.slice(0, 10).replace(/-/g, ''), time: iso.slice(11, 19).replace(/:/g, '') };
}

export type Dataset = Record<string, unknown>;

/** A naturalized dataset as a Part 10 file (Explicit VR Little Endian). */
export function writeDataset(dataset: Dataset): Uint8Array {
  const meta = {
    FileMetaInformationVersion: new Uint8Array([0, 1]).buffer,
    MediaStorageSOPClassUID: dataset.SOPClassUID,
    MediaStorageSOPInstanceUID: dataset.SOPInstanceUID,
    TransferSyntaxUID: EXPLICIT_LITTLE_ENDIAN,
    ImplementationClassUID: IMPLEMENTATION_CLASS_UID,
    ImplementationVersionName: IMPLEMENTATION_VERSION,
  };
  const dict = new dcmjs.data.DicomDict(dcmjs.data.DicomMetaDictionary.denaturalizeDataset(meta));
  dict.dict = dcmjs.data.DicomMetaDictionary.denaturalizeDataset(dataset);
  return new Uint8Array(dict.write());
}

/** The Patient and General Study attributes a derived object copies from its source. */
export interface PatientStudy {
  PatientName: string;
  PatientID: string;
  PatientBirthDate: string;
  PatientSex: string;
  StudyInstanceUID: string;
  StudyDate: string;
  StudyTime: string;
  ReferringPhysicianName: string;
  StudyID: string;
  AccessionNumber: string;
}

export interface SegmentationInput {
  source: PatientStudy & {
    SOPClassUID: string;
    SOPInstanceUID: string;
    SeriesInstanceUID: string;
    FrameOfReferenceUID?: string;
  };
  rows: number;
  columns: number;
  /** 0 background, anything else foreground; rows*columns bytes. */
  mask: Uint8Array;
  /** Row and column spacing in mm, where the source says. */
  pixelSpacing: [number, number] | null;
  segment: { label: string; colour: [number, number, number] };
  /** AUTOMATIC names the algorithm: the model version that predicted the mask. */
  algorithm: { type: 'MANUAL' } | { type: 'AUTOMATIC'; name: string };
  contentCreator: string;
  contentLabel: string;
  /** Content Description (LO, cut to 64 characters); default "<segment> segmentation". */
  contentDescription?: string;
  created: Date;
  seriesInstanceUid: string;
  sopInstanceUid: string;
  seriesNumber: number;
  instanceNumber: number;
}

/** sRGB (0..255) to the CIELab of Recommended Display CIELab Value (PS3.3 C.10.7.1.1), D65 white. */
export function cielab([r, g, b]: [number, number, number]): [number, number, number] {
  const linear = (c: number) => {
    const v = c / 255;
    return v <= 0.04045 ? v / 12.92 : ((v + 0.055) / 1.055) ** 2.4;
  };
  const [lr, lg, lb] = [linear(r), linear(g), linear(b)];
  const x = (0.4124 * lr + 0.3576 * lg + 0.1805 * lb) / 0.95047;
  const y = 0.2126 * lr + 0.7152 * lg + 0.0722 * lb;
  const z = (0.0193 * lr + 0.1192 * lg + 0.9505 * lb) / 1.08883;
  const f = (t: number) => (t > (6 / 29) ** 3 ? Math.cbrt(t) : t / (3 * (6 / 29) ** 2) + 4 / 29);
  const l = 116 * f(y) - 16;
  const a = 500 * (f(x) - f(y));
  const bb = 200 * (f(y) - f(z));
  const scale = (v: number, low: number, high: number) =>
    Math.round(((Math.min(high, Math.max(low, v)) - low) / (high - low)) * 65535);
  return [scale(l, 0, 100), scale(a, -128, 127), scale(bb, -128, 127)];
}

const code = (value: string, scheme: string, meaning: string) => ({
  CodeValue: value,
  CodingSchemeDesignator: scheme,
  CodeMeaning: meaning,
});

/** The segment's codes (SNOMED CT): an altered structure, a lesion, of the lung. */
export const SEGMENT_CODES = {
  category: code('49755003', 'SCT', 'Morphologically Altered Structure'),
  type: code('52988006', 'SCT', 'Lesion'),
  anatomicRegion: code('39607008', 'SCT', 'Lung'),
};

/** Bit-packs a mask (frames concatenated without padding, least significant bit first). */
function packBits(mask: Uint8Array): ArrayBuffer {
  const bytes = new Uint8Array(Math.ceil(mask.length / 8 / 2) * 2);
  for (let i = 0; i < mask.length; i++) if (mask[i]) bytes[i >> 3] |= 1 << (i & 7);
  return bytes.buffer;
}

function equipment(): Dataset {
  return {
    Manufacturer: SOFTWARE_NAME,
    ManufacturerModelName: SOFTWARE_NAME,
    DeviceSerialNumber: '1',
    SoftwareVersions: '0.1.0',
  };
}

function patientStudy(source: PatientStudy): Dataset {
  return {
    PatientName: source.PatientName,
    PatientID: source.PatientID,
    PatientBirthDate: source.PatientBirthDate,
    PatientSex: source.PatientSex,
    StudyInstanceUID: source.StudyInstanceUID,
    StudyDate: source.StudyDate,
    StudyTime: source.StudyTime,
    ReferringPhysicianName: source.ReferringPhysicianName,
    StudyID: source.StudyID,
    AccessionNumber: source.AccessionNumber,
  };
}

/** A binary DICOM SEG with one segment and one frame, referencing its source image. */
export function segmentationDataset(input: SegmentationInput): Dataset {
  const { source, rows, columns } = input;
  const { date, time } = dicomDateTime(input.created);
  const sourceReference = {
    ReferencedSOPClassUID: source.SOPClassUID,
    ReferencedSOPInstanceUID: source.SOPInstanceUID,
  };
  const algorithm =
    input.algorithm.type === 'AUTOMATIC'
      ? { SegmentAlgorithmType: 'AUTOMATIC', SegmentAlgorithmName: input.algorithm.name }
      : { SegmentAlgorithmType: 'MANUAL' };
  const dimensionOrganizationUid = newUid();
  const pixelMeasures = input.pixelSpacing
    ? { PixelMeasuresSequence: [{ PixelSpacing: input.pixelSpacing, SliceThickness: 1 }] }
    : {};
  return {
    SpecificCharacterSet: 'ISO_IR 192',
    SOPClassUID: SEGMENTATION_STORAGE,
    SOPInstanceUID: input.sopInstanceUid,
    ...patientStudy(source),
    Modality: 'SEG',
    SeriesInstanceUID: input.seriesInstanceUid,
    SeriesNumber: input.seriesNumber,
    SeriesDescription: `${input.segment.label} (${SOFTWARE_NAME})`,
    ...(source.FrameOfReferenceUID
      ? { FrameOfReferenceUID: source.FrameOfReferenceUID, PositionReferenceIndicator: '' }
      : {}),
    ...equipment(),
    InstanceNumber: input.instanceNumber,
    PatientOrientation: '',
    ContentDate: date,
    ContentTime: time,
    ContentLabel: input.contentLabel,
    ContentDescription: (input.contentDescription ?? `${input.segment.label} segmentation`).slice(
      0,
      64,
    ),
    ContentCreatorName: input.contentCreator,
    ImageType: ['DERIVED', 'PRIMARY'],
    SamplesPerPixel: 1,
    PhotometricInterpretation: 'MONOCHROME2',
    Rows: rows,
    Columns: columns,
    BitsAllocated: 1,
    BitsStored: 1,
    HighBit: 0,
    PixelRepresentation: 0,
    LossyImageCompression: '00',
    SegmentationType: 'BINARY',
    NumberOfFrames: 1,
    SegmentSequence: [
      {
        SegmentNumber: 1,
        SegmentLabel: input.segment.label,
        SegmentedPropertyCategoryCodeSequence: [SEGMENT_CODES.category],
        SegmentedPropertyTypeCodeSequence: [SEGMENT_CODES.type],
        AnatomicRegionSequence: [SEGMENT_CODES.anatomicRegion],
        RecommendedDisplayCIELabValue: cielab(input.segment.colour),
        ...algorithm,
      },
    ],
    DimensionOrganizationSequence: [{ DimensionOrganizationUID: dimensionOrganizationUid }],
    DimensionIndexSequence: [
      {
        DimensionOrganizationUID: dimensionOrganizationUid,
        DimensionIndexPointer: 0x0062000b,
        FunctionalGroupPointer: 0x0062000a,
        DimensionDescriptionLabel: 'ReferencedSegmentNumber',
      },
    ],
    SharedFunctionalGroupsSequence: [{ ...pixelMeasures }],
    PerFrameFunctionalGroupsSequence: [
      {
        DerivationImageSequence: [
          {
            SourceImageSequence: [
              {
                ...sourceReference,
                PurposeOfReferenceCodeSequence: [
                  code('121322', 'DCM', 'Source image for image processing operation'),
                ],
              },
            ],
            DerivationCodeSequence: [code('113076', 'DCM', 'Segmentation')],
          },
        ],
        FrameContentSequence: [{ DimensionIndexValues: [1] }],
        SegmentIdentificationSequence: [{ ReferencedSegmentNumber: 1 }],
      },
    ],
    ReferencedSeriesSequence: [
      {
        SeriesInstanceUID: source.SeriesInstanceUID,
        ReferencedInstanceSequence: [sourceReference],
      },
    ],
    PixelData: packBits(input.mask),
    _vrMap: { PixelData: 'OB' },
  };
}

export interface SecondaryCaptureInput {
  /** Gray pixels, row-major. */
  data: Uint8Array | Uint16Array;
  rows: number;
  columns: number;
  bitDepth: 8 | 16;
  studyInstanceUid: string;
  seriesInstanceUid: string;
  sopInstanceUid: string;
  /** A name for the image (its file name): Patient ID stays empty. */
  description: string;
  created: Date;
}

/** A Secondary Capture Image of a picture that had no DICOM header (a PNG of the dataset). */
export function secondaryCaptureDataset(input: SecondaryCaptureInput): Dataset {
  const { date, time } = dicomDateTime(input.created);
  const { data, bitDepth } = input;
  const pixels =
    bitDepth === 16
      ? new Uint8Array(Uint16Array.from(data).buffer)
      : new Uint8Array(data.length + (data.length % 2));
  if (bitDepth === 8) pixels.set(data);
  return {
    SpecificCharacterSet: 'ISO_IR 192',
    SOPClassUID: SECONDARY_CAPTURE_STORAGE,
    SOPInstanceUID: input.sopInstanceUid,
    PatientName: '',
    PatientID: '',
    PatientBirthDate: '',
    PatientSex: '',
    StudyInstanceUID: input.studyInstanceUid,
    StudyDate: date,
    StudyTime: time,
    ReferringPhysicianName: '',
    StudyID: '',
    AccessionNumber: '',
    StudyDescription: input.description,
    Modality: 'OT',
    SeriesInstanceUID: input.seriesInstanceUid,
    SeriesNumber: 1,
    SeriesDescription: input.description,
    Laterality: '',
    ConversionType: 'WSD',
    ...equipment(),
    InstanceNumber: 1,
    PatientOrientation: '',
    ImageType: ['DERIVED', 'SECONDARY'],
    SamplesPerPixel: 1,
    PhotometricInterpretation: 'MONOCHROME2',
    Rows: input.rows,
    Columns: input.columns,
    BitsAllocated: bitDepth,
    BitsStored: bitDepth,
    HighBit: bitDepth - 1,
    PixelRepresentation: 0,
    PixelData: pixels.buffer,
    _vrMap: { PixelData: bitDepth === 16 ? 'OW' : 'OB' },
  };
}
