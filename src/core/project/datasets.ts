/**
 * The datasets repository: one row per imported folder, and the low-level image row writes the
 * importer makes. Synchronous; the importer wraps batches in transactions.
 */
import type { ImageStatus, Split } from '../../shared/contract-review';
import { naturalSortKey } from './sort-key';
import { statement, type Db } from './store';

export interface DatasetRecord {
  id: number;
  root: string;
  layout: string;
  maskPattern: string | null;
  controlsAsNegative: boolean;
  createdAt: string;
  importedAt: string;
  report: unknown;
}

interface DatasetRow extends Omit<DatasetRecord, 'controlsAsNegative' | 'report'> {
  controlsAsNegative: number;
  report: string | null;
}

const DATASET_COLUMNS = `id, root, layout, mask_pattern AS maskPattern,
  controls_as_negative AS controlsAsNegative, created_at AS createdAt, imported_at AS importedAt, report`;

function toRecord(row: DatasetRow): DatasetRecord {
  return {
    ...row,
    controlsAsNegative: row.controlsAsNegative === 1,
    report: row.report ? (JSON.parse(row.report) as unknown) : null,
  };
}

export function listDatasets(db: Db): DatasetRecord[] {
  return (
    statement(db, `SELECT ${DATASET_COLUMNS} FROM datasets ORDER BY id`).all() as DatasetRow[]
  ).map(toRecord);
}

export function findDatasetByRoot(db: Db, root: string): DatasetRecord | null {
  const row = statement(db, `SELECT ${DATASET_COLUMNS} FROM datasets WHERE root = ?`).get(root) as
    DatasetRow | undefined;
  return row ? toRecord(row) : null;
}

/** Creates the dataset row or updates its layout and options; returns its id. */
export function upsertDataset(
  db: Db,
  dataset: {
    root: string;
    layout: string;
    maskPattern: string | null;
    controlsAsNegative: boolean;
  },
): number {
  const now = new Date().toISOString();
  const existing = findDatasetByRoot(db, dataset.root);
  if (existing) {
    statement(
      db,
      `UPDATE datasets SET layout = ?, mask_pattern = ?, controls_as_negative = ?, imported_at = ?
       WHERE id = ?`,
    ).run(
      dataset.layout,
      dataset.maskPattern,
      dataset.controlsAsNegative ? 1 : 0,
      now,
      existing.id,
    );
    return existing.id;
  }
  const result = statement(
    db,
    `INSERT INTO datasets (root, layout, mask_pattern, controls_as_negative, created_at, imported_at)
       VALUES (?, ?, ?, ?, ?, ?)`,
  ).run(
    dataset.root,
    dataset.layout,
    dataset.maskPattern,
    dataset.controlsAsNegative ? 1 : 0,
    now,
    now,
  );
  return Number(result.lastInsertRowid);
}

export function saveDatasetReport(db: Db, datasetId: number, report: unknown): void {
  statement(db, 'UPDATE datasets SET report = ? WHERE id = ?').run(
    JSON.stringify(report),
    datasetId,
  );
}

export interface ImageFileFacts {
  width: number;
  height: number;
  bitDepth: number;
  channels: number;
  format: string;
  fileSize: number;
  sha256: string;
}

export interface NewImage extends ImageFileFacts {
  datasetId: number;
  relPath: string;
  name: string;
  split: Split;
  reviewState?: 'unreviewed' | 'negative';
}

/** Inserts an image row; returns its id. */
export function insertImage(db: Db, image: NewImage): number {
  const now = new Date().toISOString();
  const result = statement(
    db,
    `INSERT INTO images (dataset_id, rel_path, name, name_key, width, height, bit_depth, channels,
         format, file_size, sha256, split, review_state, created_at, updated_at)
       VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)`,
  ).run(
    image.datasetId,
    image.relPath,
    image.name,
    naturalSortKey(image.name),
    image.width,
    image.height,
    image.bitDepth,
    image.channels,
    image.format,
    image.fileSize,
    image.sha256,
    image.split,
    image.reviewState ?? 'unreviewed',
    now,
    now,
  );
  return Number(result.lastInsertRowid);
}

export interface ExistingImage extends ImageFileFacts {
  id: number;
  relPath: string;
  status: ImageStatus;
  split: Split;
  groundTruthId: number | null;
  groundTruthSha256: string | null;
  reviewState: string;
}

export function imagesOfDataset(db: Db, datasetId: number): ExistingImage[] {
  return statement(
    db,
    `SELECT id, rel_path AS relPath, sha256, status, width, height, bit_depth AS bitDepth,
         channels, format, file_size AS fileSize, split, ground_truth_id AS groundTruthId,
         ground_truth_sha256 AS groundTruthSha256, review_state AS reviewState
       FROM images WHERE dataset_id = ?`,
  ).all(datasetId) as ExistingImage[];
}

/** Records new file facts (a changed file) and/or a presence status. */
export function updateImageFile(
  db: Db,
  imageId: number,
  change: { facts?: ImageFileFacts; status: ImageStatus; split?: Split },
): void {
  const now = new Date().toISOString();
  if (change.facts) {
    const f = change.facts;
    statement(
      db,
      `UPDATE images SET width = ?, height = ?, bit_depth = ?, channels = ?, format = ?,
         file_size = ?, sha256 = ?, status = ?, updated_at = ? WHERE id = ?`,
    ).run(
      f.width,
      f.height,
      f.bitDepth,
      f.channels,
      f.format,
      f.fileSize,
      f.sha256,
      change.status,
      now,
      imageId,
    );
  } else {
    statement(db, 'UPDATE images SET status = ?, updated_at = ? WHERE id = ?').run(
      change.status,
      now,
      imageId,
    );
  }
  if (change.split)
    statement(db, 'UPDATE images SET split = ? WHERE id = ?').run(change.split, imageId);
}

/** The ground truth file disappeared: no ground truth in force (its revisions stay). */
export function clearGroundTruth(db: Db, imageId: number): void {
  statement(
    db,
    'UPDATE images SET ground_truth_id = NULL, ground_truth_sha256 = NULL, updated_at = ? WHERE id = ?',
  ).run(new Date().toISOString(), imageId);
}
