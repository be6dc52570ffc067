/**
 * Send of the DICOM SEG of each image: the SEG is built by the same writer the dicom-seg export
 * uses (formats/dicom), referencing the source's study, series and SOP instance. An image
 * without a DICOM header (a PNG) is sent first as the Secondary Capture the export writes for it
 * (UIDs derived from its content: the same instance on every send), and its SEG references that.
 * Its SOP Instance UID and series are derived from the project and the revision, so sending the
 * same revision again stores the same instance (the PACS replaces it) rather than a duplicate.
 * One instance per request, so each has its own result (stored, warning, failed); the request is
 * STOW-RS here or C-STORE (./dimse-send.ts), behind SegStore.
 */
import fs from 'node:fs/promises';
import type { JobReporter } from '../job-reporter';
import { imageDecoderFor } from '../formats';
import { dicomSource, secondaryCaptureOf, segmentLabelRgb } from '../formats/dicom/seg-export';
import { readSegmentLabel } from '../project/export-settings';
import { segmentationDataset, stableUid, writeDataset } from '../formats/dicom/write';
import { dicomTagsOf } from '../project/dicom-tags';
import { getImage, imageAbsolutePath, type ImageRecord } from '../project/images';
import {
  getRevision,
  labelRevisionId,
  latestPrediction,
  revisionMask,
  revisionPixels,
  type MaskRevision,
} from '../project/masks';
import type { ProjectStore } from '../project/store';
import {
  pacsSendInputSchema,
  type PacsSendInput,
  type PacsSendResult,
} from '../../shared/pacs-schemas';
import { call, PacsCancelledError, type DicomwebSession } from './dicomweb';

/** Series Number of sent SEGs (the dicom-seg export's too: derived objects sort late). */
const SEG_SERIES_NUMBER = 9100;
/** A predicted pixel at or above this probability is lesion. */
const PREDICTION_THRESHOLD = 0.5;

type SendSource = ReturnType<typeof pacsSendInputSchema.parse>['source'];

export class PacsSendError extends Error {
  constructor(message: string) {
    super(message);
    this.name = 'PacsSendError';
  }
}

/** The revision of an image a send uses, or why there is none. */
export function revisionToSend(
  store: ProjectStore,
  image: ImageRecord,
  source: SendSource,
  model: string | null,
): MaskRevision | string {
  if (source === 'ground-truth')
    return image.groundTruthId !== null
      ? getRevision(store.db, image.groundTruthId)
      : 'no ground truth';
  if (source === 'label') {
    const id = labelRevisionId(image);
    return id !== null ? getRevision(store.db, id) : 'no label';
  }
  const prediction = model ? latestPrediction(store.db, image.id, model) : null;
  return prediction ?? `no prediction of model ${model}`;
}

/** The same key for the same project, revision and source: the same SEG UIDs on every send. */
function uidKey(store: ProjectStore): string {
  return `qataseg-pacs-seg:${store.getMeta('created_at') ?? store.dir}`;
}

export function segUids(
  store: ProjectStore,
  revision: MaskRevision,
  negative: boolean,
  studyInstanceUid: string,
): { seriesInstanceUid: string; sopInstanceUid: string } {
  const key = uidKey(store);
  // A series belongs to one study: the SEGs of each study of the source get their own.
  const series = `${revision.source === 'prediction' ? `prediction:${revision.modelVersion}` : 'label'}:${studyInstanceUid}`;
  // A negative review empties the mask: another content, so another instance.
  const content = negative ? `${revision.id}:negative` : String(revision.id);
  return {
    seriesInstanceUid: stableUid(`${key}:series:${series}`),
    sopInstanceUid: stableUid(`${key}:revision:${content}`),
  };
}

/** A Part 10 file to send, and its SOP Instance UID. */
export interface SendObject {
  bytes: Uint8Array;
  sopInstanceUid: string;
}

/**
 * The SEG of one image's revision as a Part 10 file, with the UID of the image it references. A
 * DICOM image is referenced as it is; an image without a DICOM header (a PNG) first becomes a
 * Secondary Capture (`capture`, to send before the SEG) with UIDs derived from its content, so
 * every send references the same instance.
 */
export async function segmentationFor(
  store: ProjectStore,
  image: ImageRecord,
  revision: MaskRevision,
  instanceNumber: number,
): Promise<{
  bytes: Uint8Array;
  sopInstanceUid: string;
  referencedSopInstanceUid: string;
  capture: SendObject | null;
}> {
  const file = await fs.readFile(imageAbsolutePath(image));
  let source: ReturnType<typeof dicomSource>;
  let capture: SendObject | null = null;
  if (image.format === 'dicom') source = dicomSource(file);
  else {
    const captured = secondaryCaptureOf(image, await imageDecoderFor(file).decode(file));
    source = captured.source;
    capture = { bytes: writeDataset(captured.dataset), sopInstanceUid: source.SOPInstanceUID };
  }
  const tags = dicomTagsOf(store.db, image.id);
  const negative = image.reviewState === 'negative';
  const pixels = negative
    ? // A reviewer ruled the image free of lesions: no SEG carries one (as in the export).
      new Uint8Array(image.width * image.height)
    : revision.source === 'prediction'
      ? (await revisionPixels(store.db, revision.id)).map((value) =>
          value >= Math.round(PREDICTION_THRESHOLD * 255) ? 1 : 0,
        )
      : await revisionMask(store.db, revision.id);
  if (revision.width !== image.width || revision.height !== image.height)
    throw new PacsSendError(
      `mask is ${revision.width}x${revision.height} but the image is ${image.width}x${image.height}`,
    );
  const label = segmentLabelRgb(readSegmentLabel(store));
  const uids = segUids(store, revision, negative, source.StudyInstanceUID);
  const dataset = segmentationDataset({
    source,
    rows: image.height,
    columns: image.width,
    mask: pixels,
    pixelSpacing:
      tags?.rowSpacing && tags.columnSpacing ? [tags.rowSpacing, tags.columnSpacing] : null,
    segment: { label: label.name, colour: label.colour },
    algorithm:
      revision.source === 'prediction'
        ? { type: 'AUTOMATIC', name: revision.modelVersion ?? 'unknown model' }
        : { type: 'MANUAL' },
    contentCreator: revision.author,
    contentLabel: 'SEGMENTATION',
    // The revision's time, not now: the same revision is the same object on every send.
    created: new Date(revision.createdAt),
    seriesInstanceUid: uids.seriesInstanceUid,
    sopInstanceUid: uids.sopInstanceUid,
    seriesNumber: SEG_SERIES_NUMBER,
    instanceNumber,
  });
  return {
    bytes: writeDataset(dataset),
    sopInstanceUid: uids.sopInstanceUid,
    referencedSopInstanceUid: source.SOPInstanceUID,
    capture,
  };
}

/** The STOW-RS response's verdict on the one instance sent (DICOM JSON, PS3.18 10.5.3). */
export function stowVerdict(
  response: unknown,
  sopInstanceUid: string,
): { status: 'stored' | 'warning' | 'failed'; message: string } {
  let body: unknown = response;
  if (typeof response === 'string') {
    try {
      body = response.trim() === '' ? {} : JSON.parse(response);
    } catch {
      // Not JSON (an XML response): HTTP 200 already said the store succeeded.
      return { status: 'stored', message: 'stored' };
    }
  } else if (response instanceof ArrayBuffer) {
    return stowVerdict(Buffer.from(response).toString('utf8'), sopInstanceUid);
  }
  const item = (Array.isArray(body) ? body[0] : body) as
    Record<string, { Value?: Record<string, { Value?: unknown[] }>[] }> | undefined;
  const uidIn = (tag: string) =>
    (item?.[tag]?.Value ?? []).some((entry) => entry['00081155']?.Value?.[0] === sopInstanceUid);
  const failed = uidIn('00081198');
  if (failed)
    return { status: 'failed', message: 'the PACS listed it as failed (Failed SOP Sequence)' };
  const referenced = item?.['00081199']?.Value ?? [];
  const entry = referenced.find((ref) => ref['00081155']?.Value?.[0] === sopInstanceUid);
  if (entry?.['00081196'])
    return {
      status: 'warning',
      message: `stored with a warning (Warning Reason ${String(entry['00081196'].Value?.[0])})`,
    };
  return { status: 'stored', message: 'stored' };
}

/** The images a send covers: all of the project's (present on disk), or the chosen ones. */
function imagesToSend(store: ProjectStore, imageIds: number[] | undefined): ImageRecord[] {
  const ids =
    imageIds ??
    (
      store.db.prepare("SELECT id FROM images WHERE status != 'missing' ORDER BY id").all() as {
        id: number;
      }[]
    ).map((row) => row.id);
  return ids.map((id) => getImage(store.db, id));
}

/**
 * How a send stores one SEG on the PACS: STOW-RS (stowStore below) or C-STORE (./dimse-send.ts).
 * A failure it can name is a verdict; a thrown PacsCancelledError stops the send.
 */
export interface SegStore {
  /** The connection's name, for the report. */
  readonly connection: string;
  store(
    bytes: Uint8Array,
    sopInstanceUid: string,
    imageName: string,
    signal: AbortSignal,
  ): Promise<{ status: 'stored' | 'warning' | 'failed'; message: string }>;
}

/** STOW-RS, one instance per request. */
export function stowStore(session: DicomwebSession): SegStore {
  return {
    connection: session.connection.name,
    async store(bytes, sopInstanceUid, imageName, signal) {
      const response = await call(
        session,
        `storing the SEG of ${imageName} (STOW-RS)`,
        signal,
        (request) =>
          session.client.storeInstances({
            datasets: [Uint8Array.from(bytes).buffer],
            request,
          }),
      );
      const verdict = stowVerdict(response, sopInstanceUid);
      if (verdict.status === 'failed') return verdict;
      // A server may answer success and keep nothing (Orthanc's DICOMweb plugin does for an
      // instance its ReceivedInstanceFilter refused): what it holds is the verdict.
      const held = (await call(
        session,
        `checking that the PACS holds the SEG of ${imageName} (QIDO-RS)`,
        signal,
        (request) =>
          session.client.searchForInstances({
            queryParams: { SOPInstanceUID: sopInstanceUid },
            request,
          }),
      )) as unknown[] | undefined;
      if (!Array.isArray(held) || held.length === 0)
        return {
          status: 'failed',
          message: `PACS ${session.connection.name} (${session.connection.url}) answered the STOW-RS store with success but does not hold the instance: it refused it (a filter or policy of the server)`,
        };
      return verdict;
    },
  };
}

export async function sendSegmentations(
  store: ProjectStore,
  target: SegStore,
  input: PacsSendInput,
  reporter: JobReporter,
): Promise<PacsSendResult> {
  const parsed = pacsSendInputSchema.parse(input);
  const model =
    parsed.source === 'predicted' ? (parsed.model ?? store.getMeta('active_model')) : null;
  if (parsed.source === 'predicted' && !model)
    throw new PacsSendError('no model version given and no active model: pass --model');
  const images = imagesToSend(store, parsed.imageIds);
  const instances: PacsSendResult['instances'] = [];
  reporter.progress({ phase: 'sending', done: 0, total: images.length });
  let instanceNumber = 0;
  for (const image of images) {
    if (reporter.signal.aborted) throw new PacsCancelledError();
    const base = { imageId: image.id, image: image.name };
    const revision = revisionToSend(store, image, parsed.source, model);
    if (typeof revision === 'string') {
      instances.push({
        ...base,
        status: 'skipped',
        sopInstanceUid: null,
        referencedSopInstanceUid: null,
        message: revision,
      });
      continue;
    }
    let segmentation;
    try {
      segmentation = await segmentationFor(store, image, revision, ++instanceNumber);
    } catch (error) {
      const message = (error as Error).message;
      instances.push({
        ...base,
        status: 'failed',
        sopInstanceUid: null,
        referencedSopInstanceUid: null,
        message: `SEG not built: ${message}`,
      });
      continue;
    }
    const { bytes, sopInstanceUid, referencedSopInstanceUid, capture } = segmentation;
    try {
      // The SEG references the Secondary Capture: it goes only where the capture went.
      const captured = capture
        ? await target.store(
            capture.bytes,
            capture.sopInstanceUid,
            `${image.name} (its Secondary Capture)`,
            reporter.signal,
          )
        : null;
      if (captured?.status === 'failed') {
        instances.push({
          ...base,
          status: 'failed',
          sopInstanceUid,
          referencedSopInstanceUid,
          message: `Secondary Capture not stored, so neither its SEG: ${captured.message}`,
        });
      } else {
        const verdict = await target.store(bytes, sopInstanceUid, image.name, reporter.signal);
        instances.push({
          ...base,
          sopInstanceUid,
          referencedSopInstanceUid,
          ...verdict,
          ...(captured?.status === 'warning' && verdict.status === 'stored'
            ? { status: 'warning' as const, message: `Secondary Capture ${captured.message}` }
            : {}),
        });
      }
    } catch (error) {
      if (error instanceof PacsCancelledError) throw error;
      instances.push({
        ...base,
        status: 'failed',
        sopInstanceUid,
        referencedSopInstanceUid,
        message: (error as Error).message,
      });
    }
    reporter.progress({ done: instances.length, total: images.length });
  }
  const count = (status: string) => instances.filter((entry) => entry.status === status).length;
  return {
    connection: target.connection,
    instances,
    stored: count('stored') + count('warning'),
    failed: count('failed'),
    skipped: count('skipped'),
  };
}
