/**
 * The images repository: rows of `images` (one per source file of an imported dataset), the
 * worklist query and the review state. Synchronous (better-sqlite3); callers own transactions.
 */
import path from 'node:path';
import { ApiError } from '../../shared/contract';
import {
  imagesListInputSchema,
  type DicomListFacts,
  type ImageFilter,
  type ImageListItem,
  type ImageStatus,
  type ImagesListInput,
  type ImagesListOutput,
  type ReviewState,
  type Split,
} from '../../shared/contract-review';
import type { ImageFileFacts } from './datasets';
import { statement, type Db } from './store';

/** A row of `images`; the file facts are those the importer measured. */
export interface ImageRecord extends ImageFileFacts {
  id: number;
  datasetId: number;
  datasetRoot: string;
  relPath: string;
  name: string;
  split: Split;
  status: ImageStatus;
  reviewState: ReviewState;
  comment: string;
  groundTruthId: number | null;
  groundTruthSha256: string | null;
  correctionHeadId: number | null;
  createdAt: string;
  updatedAt: string;
  reviewedAt: string | null;
}

const IMAGE_COLUMNS = `
  i.id, i.dataset_id AS datasetId, d.root AS datasetRoot, i.rel_path AS relPath, i.name,
  i.width, i.height, i.bit_depth AS bitDepth, i.channels, i.format, i.file_size AS fileSize,
  i.sha256, i.split, i.status, i.review_state AS reviewState, i.comment,
  i.ground_truth_id AS groundTruthId, i.ground_truth_sha256 AS groundTruthSha256,
  i.correction_head_id AS correctionHeadId, i.created_at AS createdAt, i.updated_at AS updatedAt,
  i.reviewed_at AS reviewedAt`;

export function findImage(db: Db, id: number): ImageRecord | null {
  const row = statement(
    db,
    `SELECT ${IMAGE_COLUMNS} FROM images i JOIN datasets d ON d.id = i.dataset_id WHERE i.id = ?`,
  ).get(id) as ImageRecord | undefined;
  return row ?? null;
}

/** The image row; ApiError 'not-found' when there is none. */
export function getImage(db: Db, id: number): ImageRecord {
  const image = findImage(db, id);
  if (!image) throw new ApiError('not-found', `no image ${id}`);
  return image;
}

/** Where the source file lives: dataset root + relative path (stored with '/' separators). */
export function imageAbsolutePath(image: Pick<ImageRecord, 'datasetRoot' | 'relPath'>): string {
  return path.join(image.datasetRoot, ...image.relPath.split('/'));
}

export function imagePathById(db: Db, id: number): string {
  return imageAbsolutePath(getImage(db, id));
}

export interface ImageQuery {
  splits?: Split[];
  states?: ReviewState[];
  statuses?: ImageStatus[];
  datasetId?: number;
}

/** Every image matching the query, ordered by id (engine, export). */
export function queryImages(db: Db, query: ImageQuery = {}): ImageRecord[] {
  const where: string[] = [];
  const params: unknown[] = [];
  const inList = (column: string, values: readonly string[] | undefined) => {
    if (!values) return;
    if (values.length === 0) where.push('0');
    else {
      where.push(`${column} IN (${values.map(() => '?').join(', ')})`);
      params.push(...values);
    }
  };
  inList('i.split', query.splits);
  inList('i.review_state', query.states);
  inList('i.status', query.statuses);
  if (query.datasetId !== undefined) {
    where.push('i.dataset_id = ?');
    params.push(query.datasetId);
  }
  const sql = `SELECT ${IMAGE_COLUMNS} FROM images i JOIN datasets d ON d.id = i.dataset_id
    ${where.length ? `WHERE ${where.join(' AND ')}` : ''} ORDER BY i.id`;
  return statement(db, sql).all(...params) as ImageRecord[];
}

function filterSql(filter: ImageFilter): {
  where: string;
  params: unknown[];
  /** The filter reads the active model's figures: the count needs the join too. */
  usesPrediction: boolean;
} {
  const clauses: string[] = [];
  const params: unknown[] = [];
  if (filter.state) {
    clauses.push('i.review_state = ?');
    params.push(filter.state);
  }
  if (filter.split) {
    clauses.push('i.split = ?');
    params.push(filter.split);
  }
  if (filter.splits) {
    clauses.push(
      filter.splits.length === 0 ? '0' : `i.split IN (${filter.splits.map(() => '?').join(', ')})`,
    );
    params.push(...filter.splits);
  }
  if (filter.status) {
    clauses.push('i.status = ?');
    params.push(filter.status);
  }
  const search = filter.search?.trim();
  if (search) {
    const pattern = `%${search.replace(/[\\%_]/g, (c) => `\\${c}`)}%`;
    clauses.push(`(i.rel_path LIKE ? ESCAPE '\\' OR dt.patient_id LIKE ? ESCAPE '\\')`);
    params.push(pattern, pattern);
  }
  if (filter.modality) {
    clauses.push('dt.modality = ?');
    params.push(filter.modality);
  }
  if (filter.viewPosition) {
    clauses.push('dt.view_position = ?');
    params.push(filter.viewPosition);
  }
  const presence = (value: boolean | undefined, column: string) => {
    if (value !== undefined) clauses.push(`${column} IS ${value ? 'NOT NULL' : 'NULL'}`);
  };
  presence(filter.hasGroundTruth, 'i.ground_truth_id');
  presence(filter.hasCorrection, 'i.correction_head_id');
  presence(filter.hasPrediction, 'ps.revision_id');
  let usesPrediction = filter.hasPrediction !== undefined;
  for (const [range, column] of [
    [filter.dice, 'ps.dice'],
    [filter.area, 'ps.predicted_area'],
    [filter.uncertainty, 'ps.uncertainty'],
  ] as const) {
    if (range?.min !== undefined) {
      clauses.push(`${column} >= ?`);
      params.push(range.min);
      usesPrediction = true;
    }
    if (range?.max !== undefined) {
      clauses.push(`${column} <= ?`);
      params.push(range.max);
      usesPrediction = true;
    }
  }
  return { where: clauses.length ? `WHERE ${clauses.join(' AND ')}` : '', params, usesPrediction };
}

const SORT_KEYS: Record<string, string> = {
  name: 'i.name_key',
  split: 'i.split',
  state: 'i.review_state',
  dice: 'ps.dice',
  area: 'ps.predicted_area',
  uncertainty: 'ps.uncertainty',
  changed: 'pc.changed',
  disagreement: 'pc.disagreement',
  patient: 'dt.patient_id',
  studyDate: 'dt.study_date',
};

/** The DICOM facts a worklist row shows, selected from `dicom_images dt` (joined on the image). */
export const DICOM_LIST_COLUMNS = `dt.patient_id AS patientId, dt.study_date AS studyDate, dt.modality,
      dt.view_position AS viewPosition`;

/** A row's DICOM_LIST_COLUMNS: all null for an image that is not DICOM. */
export interface DicomListRow {
  patientId: string | null;
  studyDate: string | null;
  modality: string | null;
  viewPosition: string | null;
}

/** The worklist's DICOM facts of a row: null for an image that is not DICOM. */
export function dicomListFacts(row: DicomListRow): DicomListFacts | null {
  return row.patientId === null
    ? null
    : {
        patientId: row.patientId,
        studyDate: row.studyDate ?? '',
        modality: row.modality ?? '',
        viewPosition: row.viewPosition ?? '',
      };
}

interface ListRow extends DicomListRow {
  id: number;
  relPath: string;
  name: string;
  split: Split;
  width: number;
  height: number;
  reviewState: ReviewState;
  groundTruthId: number | null;
  correctionHeadId: number | null;
  predictionId: number | null;
  dice: number | null;
  predictedArea: number | null;
  uncertainty: number | null;
  changed: number | null;
  disagreement: number | null;
  status: ImageStatus;
  sha256: string;
}

/**
 * One page of the worklist: the page (the active model's prediction figures are a join on
 * `prediction_stats`; name, split and state sorts walk an index) and the total, from an index
 * count. Images without figures sort last.
 */
export function listImages(
  db: Db,
  input: ImagesListInput,
  activeModel: string | null,
): ImagesListOutput {
  const { offset, limit, sort, direction, filter, changesOf } = imagesListInputSchema.parse(input);
  const { where, params, usesPrediction } = filterSql(filter);
  const usesDicom = /\bdt\./.test(where);
  const dir = direction === 'desc' ? 'DESC' : 'ASC';
  const key = SORT_KEYS[sort];
  const nullsLast =
    key.startsWith('ps.') || key.startsWith('pc.') || key.startsWith('dt.')
      ? `${key} IS NULL, `
      : '';
  const tieBreak = sort === 'name' ? `i.id ${dir}` : `i.name_key ${dir}, i.id ${dir}`;
  const sql = `
    SELECT i.id, i.rel_path AS relPath, i.name, i.split, i.width, i.height,
      i.review_state AS reviewState, i.ground_truth_id AS groundTruthId,
      i.correction_head_id AS correctionHeadId, ps.revision_id AS predictionId, ps.dice,
      ps.predicted_area AS predictedArea, ps.uncertainty, pc.changed, pc.disagreement, i.status,
      i.sha256,
      ${DICOM_LIST_COLUMNS}
    FROM images i
    LEFT JOIN prediction_stats ps ON ps.image_id = i.id AND ps.model_version = ?
    LEFT JOIN prediction_changes pc ON pc.image_id = i.id AND pc.model_version = ?
    LEFT JOIN dicom_images dt ON dt.image_id = i.id
    ${where}
    ORDER BY ${nullsLast}${key} ${dir}, ${tieBreak}
    LIMIT ? OFFSET ?`;
  const rows = statement(db, sql).all(
    activeModel ?? '',
    changesOf ?? activeModel ?? '',
    ...params,
    limit,
    offset,
  ) as ListRow[];
  // A separate count: a window COUNT(*) OVER () would materialise every row before the LIMIT.
  const dicomJoin = usesDicom ? 'LEFT JOIN dicom_images dt ON dt.image_id = i.id' : '';
  const countSql = usesPrediction
    ? `SELECT COUNT(*) AS n FROM images i
       LEFT JOIN prediction_stats ps ON ps.image_id = i.id AND ps.model_version = ?
       ${dicomJoin} ${where}`
    : `SELECT COUNT(*) AS n FROM images i ${dicomJoin} ${where}`;
  const countParams = usesPrediction ? [activeModel ?? '', ...params] : params;
  const total = (statement(db, countSql).get(...countParams) as { n: number }).n;
  const items: ImageListItem[] = rows.map((row) => ({
    id: row.id,
    relPath: row.relPath,
    name: row.name,
    split: row.split,
    width: row.width,
    height: row.height,
    reviewState: row.reviewState,
    hasGroundTruth: row.groundTruthId !== null,
    hasCorrection: row.correctionHeadId !== null,
    hasPrediction: row.predictionId !== null,
    dice: row.dice,
    predictedArea: row.predictedArea,
    uncertainty: row.uncertainty,
    changed: row.changed,
    disagreement: row.disagreement,
    status: row.status,
    sha256: row.sha256,
    dicom: dicomListFacts(row),
  }));
  return { total, items };
}

/** Sets the review state and/or comment. */
export function setReview(
  db: Db,
  imageId: number,
  change: { state?: ReviewState; comment?: string },
): void {
  getImage(db, imageId);
  const now = new Date().toISOString();
  if (change.state !== undefined) {
    statement(
      db,
      'UPDATE images SET review_state = ?, reviewed_at = ?, updated_at = ? WHERE id = ?',
    ).run(change.state, change.state === 'unreviewed' ? null : now, now, imageId);
  }
  if (change.comment !== undefined) {
    statement(db, 'UPDATE images SET comment = ?, updated_at = ? WHERE id = ?').run(
      change.comment,
      now,
      imageId,
    );
  }
}

export function imageCount(db: Db): number {
  return (statement(db, 'SELECT COUNT(*) AS n FROM images').get() as { n: number }).n;
}
