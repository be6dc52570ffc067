/**
 * De-identification of the DICOM objects an export writes, by the Basic Application Level
 * Confidentiality Profile (PS3.15 Annex E, table E.1-1): each attribute of the profile that can
 * occur in a SEG or Secondary Capture this project writes is removed (X), emptied (Z) or given a
 * dummy value (D); every instance UID is replaced (U) by a new one, the same new one for the same
 * old one across the whole export, so references between the written files still hold.
 */
import { newUid } from './write';

type Dataset = Record<string, unknown>;

/** Action per attribute keyword (Annex E basic profile; D values fit type 1 attributes). */
const ACTIONS: Record<string, { action: 'X' } | { action: 'Z' } | { action: 'D'; dummy: string }> =
  {
    PatientName: { action: 'Z' },
    PatientBirthDate: { action: 'Z' },
    PatientSex: { action: 'Z' },
    PatientAge: { action: 'X' },
    OtherPatientIDs: { action: 'X' },
    OtherPatientNames: { action: 'X' },
    PatientAddress: { action: 'X' },
    PatientComments: { action: 'X' },
    StudyDate: { action: 'Z' },
    StudyTime: { action: 'Z' },
    SeriesDate: { action: 'X' },
    SeriesTime: { action: 'X' },
    AcquisitionDate: { action: 'X' },
    AcquisitionTime: { action: 'X' },
    ContentDate: { action: 'D', dummy: '19000101' },
    ContentTime: { action: 'D', dummy: '000000' },
    AccessionNumber: { action: 'Z' },
    StudyID: { action: 'Z' },
    ReferringPhysicianName: { action: 'Z' },
    InstitutionName: { action: 'X' },
    InstitutionAddress: { action: 'X' },
    StationName: { action: 'X' },
    OperatorsName: { action: 'X' },
    PerformingPhysicianName: { action: 'X' },
    ContentCreatorName: { action: 'Z' },
    DeviceSerialNumber: { action: 'D', dummy: '0' },
    StudyDescription: { action: 'X' },
    SeriesDescription: { action: 'X' },
    ImageComments: { action: 'X' },
    DerivationDescription: { action: 'X' },
  };

/** UIDs that name a class or a syntax, not an instance: kept (PS3.15 E.1: only instances are U). */
const CLASS_UIDS = new Set([
  'SOPClassUID',
  'ReferencedSOPClassUID',
  'MediaStorageSOPClassUID',
  'TransferSyntaxUID',
  'ImplementationClassUID',
]);

export const BASIC_PROFILE_CODE = {
  CodeValue: '113100',
  CodingSchemeDesignator: 'DCM',
  CodeMeaning: 'Basic Application Confidentiality Profile',
};

/** One export's replacements: the same old UID or Patient ID always gets the same new one. */
export class Deidentifier {
  private readonly uids = new Map<string, string>();
  private readonly patients = new Map<string, string>();

  uid(old: string): string {
    let replaced = this.uids.get(old);
    if (!replaced) {
      replaced = newUid();
      this.uids.set(old, replaced);
    }
    return replaced;
  }

  /** Patient ID (Z in the profile) becomes a pseudonym, so one patient's files stay together. */
  patientId(old: string): string {
    if (!old) return '';
    let replaced = this.patients.get(old);
    if (!replaced) {
      replaced = `ANON${String(this.patients.size + 1).padStart(4, '0')}`;
      this.patients.set(old, replaced);
    }
    return replaced;
  }

  /** A de-identified copy of a naturalized dataset (sequences included). */
  apply(dataset: Dataset): Dataset {
    const out = this.walk(dataset);
    out.PatientIdentityRemoved = 'YES';
    out.DeidentificationMethod = 'PS3.15 Annex E Basic Application Level Confidentiality Profile';
    out.DeidentificationMethodCodeSequence = [BASIC_PROFILE_CODE];
    return out;
  }

  private walk(dataset: Dataset): Dataset {
    const out: Dataset = {};
    for (const [keyword, value] of Object.entries(dataset)) {
      const rule = ACTIONS[keyword];
      if (rule?.action === 'X') continue;
      if (rule?.action === 'Z') out[keyword] = '';
      else if (rule?.action === 'D') out[keyword] = rule.dummy;
      else if (keyword === 'PatientID')
        out[keyword] = this.patientId(typeof value === 'string' ? value : '');
      else if (keyword.endsWith('UID') && !CLASS_UIDS.has(keyword) && typeof value === 'string')
        out[keyword] = value ? this.uid(value) : value;
      else if (Array.isArray(value) && value.every((v) => typeof v === 'object' && v !== null))
        out[keyword] = (value as Dataset[]).map((item) => this.walk(item));
      else out[keyword] = value;
    }
    return out;
  }
}
