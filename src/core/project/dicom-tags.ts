/**
 * The DICOM tags kept per image (`dicom_images`): what the worklist and viewer show (Patient ID,
 * study date, modality, view position, pixel spacing) and the UIDs a DICOM SEG references.
 */
import type { DicomFacts } from '../formats/dicom/parse';
import { statement, type Db } from './store';

/** The identifying and displayed facts of the file, with its spacing as two columns. */
export interface DicomTags extends Pick<
  DicomFacts,
  | 'sopClassUid'
  | 'sopInstanceUid'
  | 'studyInstanceUid'
  | 'seriesInstanceUid'
  | 'patientId'
  | 'studyDate'
  | 'modality'
  | 'viewPosition'
> {
  rowSpacing: number | null;
  columnSpacing: number | null;
}

export function tagsOfFacts(facts: DicomFacts): DicomTags {
  return {
    sopClassUid: facts.sopClassUid,
    sopInstanceUid: facts.sopInstanceUid,
    studyInstanceUid: facts.studyInstanceUid,
    seriesInstanceUid: facts.seriesInstanceUid,
    patientId: facts.patientId,
    studyDate: facts.studyDate,
    modality: facts.modality,
    viewPosition: facts.viewPosition,
    rowSpacing: facts.pixelSpacing?.[0] ?? null,
    columnSpacing: facts.pixelSpacing?.[1] ?? null,
  };
}

export function saveDicomTags(db: Db, imageId: number, tags: DicomTags): void {
  statement(
    db,
    `INSERT INTO dicom_images (image_id, sop_class_uid, sop_instance_uid, study_instance_uid,
       series_instance_uid, patient_id, study_date, modality, view_position, row_spacing,
       column_spacing)
     VALUES (@imageId, @sopClassUid, @sopInstanceUid, @studyInstanceUid, @seriesInstanceUid,
       @patientId, @studyDate, @modality, @viewPosition, @rowSpacing, @columnSpacing)
     ON CONFLICT (image_id) DO UPDATE SET sop_class_uid = excluded.sop_class_uid,
       sop_instance_uid = excluded.sop_instance_uid,
       study_instance_uid = excluded.study_instance_uid,
       series_instance_uid = excluded.series_instance_uid, patient_id = excluded.patient_id,
       study_date = excluded.study_date, modality = excluded.modality,
       view_position = excluded.view_position, row_spacing = excluded.row_spacing,
       column_spacing = excluded.column_spacing`,
  ).run({ imageId, ...tags });
}

const TAG_COLUMNS = `sop_class_uid AS sopClassUid, sop_instance_uid AS sopInstanceUid,
  study_instance_uid AS studyInstanceUid, series_instance_uid AS seriesInstanceUid,
  patient_id AS patientId, study_date AS studyDate, modality, view_position AS viewPosition,
  row_spacing AS rowSpacing, column_spacing AS columnSpacing`;

export function dicomTagsOf(db: Db, imageId: number): DicomTags | null {
  const row = statement(db, `SELECT ${TAG_COLUMNS} FROM dicom_images WHERE image_id = ?`).get(
    imageId,
  ) as DicomTags | undefined;
  return row ?? null;
}

/** Images of a dataset by SOP Instance UID (what a SEG references). */
export function imagesBySopInstance(db: Db, datasetId: number): Map<string, number> {
  const rows = statement(
    db,
    `SELECT t.sop_instance_uid AS uid, t.image_id AS id FROM dicom_images t
     JOIN images i ON i.id = t.image_id WHERE i.dataset_id = ?`,
  ).all(datasetId) as { uid: string; id: number }[];
  return new Map(rows.map((row) => [row.uid, row.id]));
}

/** Every DICOM image of the project by SOP Instance UID (what a SEG from elsewhere references). */
export function projectImagesBySopInstance(db: Db): Map<string, number> {
  const rows = statement(
    db,
    'SELECT sop_instance_uid AS uid, image_id AS id FROM dicom_images',
  ).all() as { uid: string; id: number }[];
  return new Map(rows.map((row) => [row.uid, row.id]));
}

/** The distinct modalities and view positions of the project's DICOM images, sorted. */
export function imageFacets(db: Db): { modalities: string[]; viewPositions: string[] } {
  const distinct = (column: 'modality' | 'view_position') =>
    (
      statement(
        db,
        `SELECT DISTINCT ${column} AS value FROM dicom_images WHERE ${column} <> '' ORDER BY 1`,
      ).all() as { value: string }[]
    ).map((row) => row.value);
  return { modalities: distinct('modality'), viewPositions: distinct('view_position') };
}
