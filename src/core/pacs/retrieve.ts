/**
 * WADO-RS retrieve of a study or series into the project: the instances are listed (QIDO-RS,
 * paged), those the project already holds (same SOP Instance UID) or an earlier run already wrote
 * are skipped, the rest are fetched one instance per request (so memory holds a few instances,
 * whatever the series' size) and written under `<project>/pacs/<connection>/` by temporary name
 * and rename (an interrupted run leaves no partial file, and the next run resumes). That folder is
 * then imported through the same DICOM import as any dataset, with its report.
 */
import fs from 'node:fs/promises';
import path from 'node:path';
import type { JobReporter } from '../job-reporter';
import { importDataset } from '../dataset/import';
import { projectImagesBySopInstance } from '../project/dicom-tags';
import type { ProjectStore } from '../project/store';
import {
  pacsRetrieveInputSchema,
  type PacsRetrieveInput,
  type PacsRetrieveResult,
} from '../../shared/pacs-schemas';
import { call, PacsCancelledError, type DicomwebSession } from './dicomweb';
import { jsonText, TAGS } from './search';

/** The folder (inside the project) retrieved instances of a connection are written to. */
export function retrieveFolder(store: ProjectStore, connection: string): string {
  return path.join(store.dir, 'pacs', connection);
}

const LIST_PAGE = 1000;
const PARALLEL_FETCHES = 4;
const UID = /^[0-9]+(\.[0-9]+)*$/;

interface InstanceRef {
  seriesInstanceUid: string;
  sopInstanceUid: string;
}

/** Every instance of the study (or series), listed a page at a time. */
async function listInstances(
  session: DicomwebSession,
  studyInstanceUid: string,
  seriesInstanceUid: string | undefined,
  signal: AbortSignal,
): Promise<InstanceRef[]> {
  const instances: InstanceRef[] = [];
  for (let offset = 0; ; offset += LIST_PAGE) {
    const page = (await call(
      session,
      `listing the instances of study ${studyInstanceUid}`,
      signal,
      (request) =>
        session.client.searchForInstances({
          studyInstanceUID: studyInstanceUid,
          ...(seriesInstanceUid ? { seriesInstanceUID: seriesInstanceUid } : {}),
          queryParams: { includefield: 'SeriesInstanceUID', offset, limit: LIST_PAGE },
          request,
        }),
    )) as Record<string, { Value?: unknown[] }>[];
    for (const item of page) {
      const sopInstanceUid = jsonText(item, TAGS.SOPInstanceUID);
      const series = jsonText(item, TAGS.SeriesInstanceUID) || seriesInstanceUid || '';
      // A UID becomes a file name: anything else is not a UID and is not trusted as one.
      if (UID.test(sopInstanceUid) && UID.test(series))
        instances.push({ seriesInstanceUid: series, sopInstanceUid });
    }
    if (page.length < LIST_PAGE) return instances;
  }
}

/** A DICOM Part 10 file: the 128-byte preamble then "DICM". */
function isPart10(bytes: unknown): bytes is ArrayBuffer {
  if (!(bytes instanceof ArrayBuffer) || bytes.byteLength < 132) return false;
  return Buffer.from(bytes, 128, 4).toString('latin1') === 'DICM';
}

async function exists(file: string): Promise<boolean> {
  try {
    await fs.access(file);
    return true;
  } catch {
    return false;
  }
}

export async function retrieveIntoProject(
  store: ProjectStore,
  session: DicomwebSession,
  input: PacsRetrieveInput,
  reporter: JobReporter,
): Promise<PacsRetrieveResult> {
  const { studyInstanceUid, seriesInstanceUid } = pacsRetrieveInputSchema.parse(input);
  const { signal } = reporter;
  const folder = retrieveFolder(store, session.connection.name);
  reporter.progress({ phase: 'listing', done: 0, total: null });
  const listed = await listInstances(session, studyInstanceUid, seriesInstanceUid, signal);
  const held = projectImagesBySopInstance(store.db);
  const wanted: (InstanceRef & { file: string })[] = [];
  let alreadyHeld = 0;
  for (const instance of listed) {
    const file = path.join(
      folder,
      studyInstanceUid,
      instance.seriesInstanceUid,
      `${instance.sopInstanceUid}.dcm`,
    );
    if (held.has(instance.sopInstanceUid) || (await exists(file))) alreadyHeld++;
    else wanted.push({ ...instance, file });
  }
  const failed: PacsRetrieveResult['failed'] = [];
  let fetched = 0;
  let next = 0;
  reporter.progress({ phase: 'retrieving', done: 0, total: wanted.length });
  const fetchOne = async (instance: (typeof wanted)[number]) => {
    let bytes: unknown;
    try {
      bytes = await call(
        session,
        `retrieving instance ${instance.sopInstanceUid} (WADO-RS)`,
        signal,
        (request) =>
          session.client.retrieveInstance({
            studyInstanceUID: studyInstanceUid,
            seriesInstanceUID: instance.seriesInstanceUid,
            sopInstanceUID: instance.sopInstanceUid,
            request,
          }),
      );
    } catch (error) {
      if (error instanceof PacsCancelledError) throw error;
      failed.push({ sopInstanceUid: instance.sopInstanceUid, reason: (error as Error).message });
      return;
    }
    if (!isPart10(bytes)) {
      // An empty or cut part (a response that stopped half-way) is not written, so not imported.
      failed.push({
        sopInstanceUid: instance.sopInstanceUid,
        reason: 'the server sent no complete DICOM Part 10 file',
      });
      return;
    }
    await fs.mkdir(path.dirname(instance.file), { recursive: true });
    const temporary = `${instance.file}.part`;
    await fs.writeFile(temporary, new Uint8Array(bytes));
    await fs.rename(temporary, instance.file);
    fetched++;
    reporter.progress({ done: fetched + failed.length, total: wanted.length });
  };
  const workers = Array.from({ length: Math.min(PARALLEL_FETCHES, wanted.length) }, async () => {
    while (next < wanted.length) {
      if (signal.aborted) throw new PacsCancelledError();
      await fetchOne(wanted[next++]);
    }
  });
  // Every worker finishes its instance (a write in flight ends renamed) before a cancel or a
  // failure is reported: nothing is left half-written behind the job.
  const ended = await Promise.allSettled(workers);
  const stopped = ended.find((outcome) => outcome.status === 'rejected');
  if (stopped) throw stopped.reason;
  // Nothing new and nothing there before: no folder to import.
  const imported =
    fetched > 0 || (await exists(folder))
      ? await importDataset(store, { root: folder }, reporter)
      : null;
  return {
    connection: session.connection.name,
    studyInstanceUid,
    listed: listed.length,
    fetched,
    alreadyHeld,
    failed,
    folder,
    import: imported,
  };
}
