/**
 * The review methods as a team reader sees them: images.list is their queue, images.get shows
 * their own reading as the label layer, masks.save / undo / redo write their own lineage
 * (core/project/readings.ts, never mask_revisions), review.set 'negative' saves an empty reading
 * ("read, no lesion"). What each answer leaves out is the blind rule's (./visibility.ts).
 */
import { ApiError } from '../../shared/contract';
import type {
  ImageDetail,
  ImageListItem,
  ImagesListInput,
  ImagesListOutput,
  ReviewState,
} from '../../shared/contract-review';
import { imagesListInputSchema } from '../../shared/contract-review';
import { DICOM_LIST_COLUMNS, dicomListFacts, getImage, type DicomListRow } from '../project/images';
import { decodeRequestMask } from '../project/mask-png';
import { predictionStats } from '../project/masks';
import {
  addReading,
  canRedoReading,
  readerAssignment,
  readingRevision,
  redoReading,
  undoReading,
} from '../project/readings';
import { activeModel, imageDetail } from '../project/review';
import { statement, type ProjectStore } from '../project/store';
import { recordTeamAudit } from './plans';
import { readerQueue, readerView, type ReaderCaller, type ReaderImageView } from './visibility';

/** The reader's own state of an image: unread, read with a lesion, read as negative. */
function readingState(store: ProjectStore, view: ReaderImageView): ReviewState {
  if (view.headId === null) return 'unreviewed';
  const head = readingRevision(store.db, view.headId);
  return head && head.area === 0 ? 'negative' : 'corrected';
}

interface QueueRow extends DicomListRow {
  id: number;
  relPath: string;
  name: string;
  split: ImageListItem['split'];
  width: number;
  height: number;
  status: ImageListItem['status'];
  sha256: string;
}

/** The reader's queue as a worklist page: unread first; `queue` says how many are read. */
export function readerImages(
  store: ProjectStore,
  reader: ReaderCaller,
  input: ImagesListInput,
): ImagesListOutput {
  const { offset, limit, filter } = imagesListInputSchema.parse(input);
  const queue = readerQueue(store.db, reader);
  const read = queue.filter((view) => view.headId !== null).length;
  const search = filter.search?.toLowerCase();
  const model = activeModel(store);
  const items: ImageListItem[] = [];
  for (const view of queue) {
    const row = statement(
      store.db,
      `SELECT i.id, i.rel_path AS relPath, i.name, i.split, i.width, i.height, i.status, i.sha256,
              ${DICOM_LIST_COLUMNS}
         FROM images i LEFT JOIN dicom_images dt ON dt.image_id = i.id WHERE i.id = ?`,
    ).get(view.imageId) as QueueRow;
    if (search && !`${row.relPath}\n${row.patientId ?? ''}`.toLowerCase().includes(search)) {
      continue;
    }
    const stats = model && view.seesPrediction ? predictionStats(store.db, row.id, model) : null;
    items.push({
      id: row.id,
      relPath: row.relPath,
      name: row.name,
      split: row.split,
      width: row.width,
      height: row.height,
      reviewState: readingState(store, view),
      hasGroundTruth: false,
      hasCorrection: view.headId !== null,
      hasPrediction: stats !== null,
      // Dice is measured against the label in force (the ground truth's side): never a reader's.
      dice: null,
      predictedArea: stats?.predictedArea ?? null,
      uncertainty: stats?.uncertainty ?? null,
      changed: null,
      disagreement: null,
      status: row.status,
      sha256: row.sha256,
      dicom: dicomListFacts(row),
      mediaError: null,
    });
  }
  return {
    total: items.length,
    items: items.slice(offset, offset + limit),
    queue: { read, total: queue.length },
  };
}

/** The image as the reader sees it: their reading is the label layer. */
export function readerDetail(
  store: ProjectStore,
  reader: ReaderCaller,
  imageId: number,
): ImageDetail {
  const view = readerView(store.db, reader, imageId);
  const full = imageDetail(store, imageId);
  const assignment = readerAssignment(store.db, view.planId, imageId, reader.userId)!;
  const head = view.headId !== null ? readingRevision(store.db, view.headId) : null;
  const savedAt =
    view.headId !== null
      ? (
          statement(store.db, 'SELECT created_at AS at FROM reading_revisions WHERE id = ?').get(
            view.headId,
          ) as { at: string }
        ).at
      : null;
  const prediction = view.seesPrediction ? full.prediction : null;
  return {
    id: full.id,
    datasetId: full.datasetId,
    relPath: full.relPath,
    name: full.name,
    split: full.split,
    width: full.width,
    height: full.height,
    bitDepth: full.bitDepth,
    channels: full.channels,
    sha256: full.sha256,
    status: full.status,
    reviewState: readingState(store, view),
    comment: view.seesProjectLabels ? full.comment : '',
    groundTruthRevisionId: view.seesProjectLabels ? full.groundTruthRevisionId : null,
    correctionRevisionId: view.headId,
    labelRevisionId: view.headId,
    predictionRevisionId: view.seesPrediction ? full.predictionRevisionId : null,
    activeModel: full.activeModel,
    prediction: prediction && {
      ...prediction,
      // Against the label in force, which a blind reader never sees.
      dice: view.seesProjectLabels ? prediction.dice : null,
    },
    canUndo: view.headId !== null,
    canRedo: canRedoReading(store.db, assignment),
    updatedAt: savedAt ?? assignment.firstSavedAt ?? full.updatedAt,
    reviewedAt: head ? savedAt : null,
    dicom: full.dicom,
    mediaError: full.mediaError,
    reading: {
      planId: view.planId,
      blind: view.blind,
      read: view.headId !== null,
      predictionHidden: !view.seesPrediction,
    },
  };
}

/** Saves the reader's label (any value > 0 is lesion; an empty mask reads "no lesion"). */
export async function saveReaderLabel(
  store: ProjectStore,
  reader: ReaderCaller,
  input: { imageId: number; png: string | Buffer; baseRevisionId?: number | null },
): Promise<ImageDetail> {
  const view = readerView(store.db, reader, input.imageId);
  const image = getImage(store.db, input.imageId);
  const mask = await decodeRequestMask(input.png, image);
  await saveReaderMask(store, reader, view, mask.data, input.baseRevisionId);
  return readerDetail(store, reader, input.imageId);
}

async function saveReaderMask(
  store: ProjectStore,
  reader: ReaderCaller,
  view: ReaderImageView,
  mask: Uint8Array,
  baseRevisionId?: number | null,
): Promise<number> {
  const image = getImage(store.db, view.imageId);
  const id = await addReading(store.db, {
    planId: view.planId,
    imageId: view.imageId,
    userId: reader.userId,
    mask,
    width: image.width,
    height: image.height,
    baseRevisionId,
  });
  recordTeamAudit(store.db, reader, 'reading.save', {
    imageId: view.imageId,
    detail: { planId: view.planId, revisionId: id },
  });
  return id;
}

/** "Read, no lesion": an empty reading; refused ('conflict') while their label has a lesion. */
export async function markReaderNegative(
  store: ProjectStore,
  reader: ReaderCaller,
  imageId: number,
): Promise<ImageDetail> {
  const view = readerView(store.db, reader, imageId);
  const head = view.headId !== null ? readingRevision(store.db, view.headId) : null;
  if (head && head.area > 0) {
    throw new ApiError(
      'conflict',
      `your label of image ${imageId} has ${head.area} lesion pixels: clear it to mark the image negative`,
    );
  }
  if (!head) {
    const image = getImage(store.db, imageId);
    await saveReaderMask(store, reader, view, new Uint8Array(image.width * image.height));
  }
  return readerDetail(store, reader, imageId);
}

/** Undo or redo in the reader's own lineage; `moved` says whether the head moved. */
export function moveReaderLabel(
  store: ProjectStore,
  reader: ReaderCaller,
  imageId: number,
  direction: 'undo' | 'redo',
): { moved: boolean; detail: ImageDetail } {
  const view = readerView(store.db, reader, imageId);
  const move = direction === 'undo' ? undoReading : redoReading;
  const moved = move(store.db, view.planId, imageId, reader.userId);
  return { moved, detail: readerDetail(store, reader, imageId) };
}
