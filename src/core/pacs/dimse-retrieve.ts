/**
 * Retrieve over DIMSE into the project, resumable like the WADO-RS path (./retrieve.ts): the
 * study's (or series') instances are listed by C-FIND at image level; those the project already
 * holds (same SOP Instance UID) or an earlier run wrote are not asked for. When none is held the
 * whole study or series is asked for in one request, else one image-level request per missing
 * instance (all on one association); an instance that arrives anyway and is held is skipped on
 * arrival. C-GET (the default) brings the instances back on our own association; C-MOVE has the
 * server send them to a store SCP opened on the connection's `our_port` for the transfer (the
 * server must know our AE title at that address). Each instance is streamed to
 * `<project>/pacs/<name>/<study>/<series>/<sop>.dcm` (./dimse-files.ts), then the folder goes
 * through the same DICOM import as any dataset. A transfer that breaks half-way keeps what came
 * whole (imported, the rest listed as failed with the reason); one that brings nothing fails.
 */
import fs from 'node:fs';
import path from 'node:path';
import dimse from 'dcmjs-dimse';
import type { JobReporter } from '../job-reporter';
import { importDataset } from '../dataset/import';
import { projectImagesBySopInstance } from '../project/dicom-tags';
import type { ProjectStore } from '../project/store';
import {
  pacsRetrieveInputSchema,
  type PacsConnection,
  type PacsRetrieveInput,
  type PacsRetrieveResult,
} from '../../shared/pacs-schemas';
import { PacsCancelledError, PacsRequestError } from './dicomweb';
import { associate, dimseServer, type DimseRequest, type DimseResponse } from './dimse';
import { dimseFind, elementText } from './dimse-search';
import type { InstanceSink, StoreOutcome } from './dimse-files';
import { retrieveFolder } from './retrieve';
import { startStoreScp } from './store-scp';

const { CGetRequest, CMoveRequest } = dimse.requests;
const { Status } = dimse.constants;
const UID = /^[0-9]+(\.[0-9]+)*$/;

interface Listed {
  seriesInstanceUid: string;
  sopInstanceUid: string;
  sopClassUid: string;
}

export type DimseRetrieveMethod = 'c-get' | 'c-move';

/** The retrieve's bookkeeping: where each instance goes, what came, what failed. */
class Transfer implements InstanceSink {
  fetched = 0;
  total = 0;
  readonly failed = new Map<string, string>();
  readonly received = new Set<string>();

  constructor(
    private readonly folder: string,
    private readonly studyInstanceUid: string,
    private readonly seriesOf: Map<string, string>,
    private readonly held: Map<string, number>,
    private readonly reporter: JobReporter,
  ) {}

  file(sopInstanceUid: string): string {
    // An instance the listing did not name (added since) goes beside the others.
    const series = this.seriesOf.get(sopInstanceUid) ?? 'unlisted';
    return path.join(this.folder, this.studyInstanceUid, series, `${sopInstanceUid}.dcm`);
  }

  target({ sopInstanceUid }: { sopInstanceUid: string }): string | { skip: string } {
    if (this.held.has(sopInstanceUid)) return { skip: 'already in the project' };
    const file = this.file(sopInstanceUid);
    if (fs.existsSync(file)) return { skip: 'retrieved by an earlier run' };
    return file;
  }

  stored(outcome: StoreOutcome): void {
    this.received.add(outcome.sopInstanceUid);
    if (outcome.file) {
      this.fetched++;
      this.failed.delete(outcome.sopInstanceUid);
    } else if (!outcome.skipped)
      this.failed.set(outcome.sopInstanceUid, outcome.reason ?? 'not written');
    this.reporter.progress({ done: this.fetched + this.failed.size, total: this.total });
  }
}

/** Sub-operation counts of a C-GET / C-MOVE final response, in words when some failed. */
function subOperationFailure(response: DimseResponse): string | null {
  const status = response.getStatus();
  if (status === Status.Success || status === Status.Pending) return null;
  const counts = response as unknown as { getFailures?(): number; getWarnings?(): number };
  const comment = response.getErrorComment();
  return `status 0x${status.toString(16)}${comment ? ` (${comment})` : ''}${
    counts.getFailures ? `, ${counts.getFailures() ?? 0} sub-operations failed` : ''
  }`;
}

export async function dimseRetrieveIntoProject(
  store: ProjectStore,
  connection: PacsConnection,
  input: PacsRetrieveInput,
  reporter: JobReporter,
): Promise<PacsRetrieveResult> {
  const parsed = pacsRetrieveInputSchema.parse(input);
  const { studyInstanceUid, seriesInstanceUid } = parsed;
  const method: DimseRetrieveMethod = parsed.method ?? 'c-get';
  const { signal } = reporter;
  const server = dimseServer(connection);
  const folder = retrieveFolder(store, connection.name);
  reporter.progress({ phase: 'listing', done: 0, total: null });
  const found = await dimseFind(
    connection,
    'IMAGE',
    {
      StudyInstanceUID: studyInstanceUid,
      SeriesInstanceUID: seriesInstanceUid ?? '',
      SOPClassUID: '',
    },
    { signal, what: `C-FIND of the instances of study ${studyInstanceUid}` },
  );
  const listed: Listed[] = [];
  for (const item of found) {
    const entry = {
      seriesInstanceUid: elementText(item, 'SeriesInstanceUID') || seriesInstanceUid || '',
      sopInstanceUid: elementText(item, 'SOPInstanceUID'),
      sopClassUid: elementText(item, 'SOPClassUID'),
    };
    // A UID becomes a file name: anything else is not a UID and is not trusted as one.
    if (UID.test(entry.sopInstanceUid) && UID.test(entry.seriesInstanceUid)) listed.push(entry);
  }
  const held = projectImagesBySopInstance(store.db);
  const seriesOf = new Map(listed.map((entry) => [entry.sopInstanceUid, entry.seriesInstanceUid]));
  const counting = new Transfer(folder, studyInstanceUid, seriesOf, held, reporter);
  const wanted = listed.filter((entry) => typeof counting.target(entry) === 'string');
  const alreadyHeld = listed.length - wanted.length;
  counting.total = wanted.length;
  let error: Error | null = null;
  if (wanted.length > 0) {
    reporter.progress({ phase: 'retrieving', done: 0, total: wanted.length });
    const whole = wanted.length === listed.length;
    const requests: DimseRequest[] = whole
      ? [request(method, connection, studyInstanceUid, seriesInstanceUid)]
      : wanted.map((entry) =>
          request(
            method,
            connection,
            studyInstanceUid,
            entry.seriesInstanceUid,
            entry.sopInstanceUid,
          ),
        );
    const failures: string[] = [];
    for (const each of requests)
      each.on('response', (response: DimseResponse) => {
        const failure = subOperationFailure(response);
        if (failure) failures.push(failure);
      });
    const sopClasses = [...new Set(wanted.map((entry) => entry.sopClassUid).filter(Boolean))];
    try {
      if (method === 'c-get')
        await associate(connection, requests, {
          what: `C-GET of study ${studyInstanceUid}`,
          signal,
          sink: counting,
          sopClasses,
        });
      else await moveInto(connection, requests, counting, studyInstanceUid, signal);
    } catch (caught) {
      if (caught instanceof PacsCancelledError) throw caught;
      error = caught as Error;
    }
    const missing = `${
      error
        ? error.message
        : `${server}: ${method === 'c-get' ? 'C-GET' : 'C-MOVE'} did not bring it${failures.length ? ` (${failures[0]})` : ''}`
    }`;
    for (const entry of wanted)
      if (
        !counting.received.has(entry.sopInstanceUid) &&
        !counting.failed.has(entry.sopInstanceUid)
      )
        counting.failed.set(entry.sopInstanceUid, missing);
    // Nothing came and the association failed: the server's error, nothing imported.
    if (error && counting.fetched === 0) throw error;
  }
  const imported =
    counting.fetched > 0 || fs.existsSync(folder)
      ? await importDataset(store, { root: folder }, reporter)
      : null;
  return {
    connection: connection.name,
    studyInstanceUid,
    listed: listed.length,
    fetched: counting.fetched,
    alreadyHeld,
    failed: [...counting.failed].map(([sopInstanceUid, reason]) => ({ sopInstanceUid, reason })),
    folder,
    import: imported,
  };
}

function request(
  method: DimseRetrieveMethod,
  connection: PacsConnection,
  study: string,
  series?: string,
  sop?: string,
): DimseRequest {
  if (method === 'c-get') {
    if (sop && series) return CGetRequest.createImageGetRequest(study, series, sop);
    if (series) return CGetRequest.createSeriesGetRequest(study, series);
    return CGetRequest.createStudyGetRequest(study);
  }
  const destination = connection.ourAet ?? '';
  if (sop && series) return CMoveRequest.createImageMoveRequest(destination, study, series, sop);
  if (series) return CMoveRequest.createSeriesMoveRequest(destination, study, series);
  return CMoveRequest.createStudyMoveRequest(destination, study);
}

/**
 * C-MOVE: a store SCP on `our_port` for the transfer (answering to our AE title, accepting the
 * server's), the move requests on another association, and the SCP closed once they end.
 */
async function moveInto(
  connection: PacsConnection,
  requests: DimseRequest[],
  sink: InstanceSink,
  studyInstanceUid: string,
  signal: AbortSignal,
): Promise<void> {
  if (!connection.ourPort || !connection.ourAet)
    throw new PacsRequestError(`${dimseServer(connection)}: C-MOVE needs our AE title and port`, 0);
  const scp = await startStoreScp({
    port: connection.ourPort,
    aet: connection.ourAet,
    allowed: (calling) => calling === connection.aet,
    sink: () => sink,
  }).catch((error: Error) => {
    throw new PacsRequestError(
      `${dimseServer(connection)}: C-MOVE failed: our store SCP could not listen on port ${connection.ourPort} (${error.message})`,
      0,
    );
  });
  try {
    await associate(connection, requests, {
      what: `C-MOVE of study ${studyInstanceUid} to ${connection.ourAet}`,
      signal,
    });
  } finally {
    await scp.close();
  }
}
