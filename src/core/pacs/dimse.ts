/**
 * DIMSE with `dcmjs-dimse` (no PDU codec of our own): C-ECHO, and `associate`, the one place an
 * association is opened, watched (rejection, network error, peer abort, silence, cancel) and
 * closed, for C-FIND, C-GET, C-MOVE and C-STORE. Errors name the server (AE@host:port) and what
 * failed; instances a C-GET brings are streamed to disk (./dimse-files.ts), never held whole.
 */
import dimse from 'dcmjs-dimse';
import type { PacsConnection } from '../../shared/pacs-schemas';
import { PacsCancelledError, PacsRequestError } from './dicomweb';
import { streamingStore, type InstanceSink, type StoreRequest } from './dimse-files';

const { Client, constants } = dimse;
const { CEchoRequest } = dimse.requests;
// The library logs every connection to the console; its failures reach the caller as messages.
dimse.log.setLevel('silent');

/** How long a C-ECHO may take before it counts as no answer. */
const ECHO_TIMEOUT_MS = 10_000;
/** Silence on an association (no response, no instance) after which it fails. */
export const DIMSE_IDLE_TIMEOUT_MS = 60_000;

export function dimseServer(connection: PacsConnection): string {
  return `PACS ${connection.name} (${connection.aet}@${connection.host}:${connection.port})`;
}

/** Words for an A-ASSOCIATE-RJ's reason (PS3.8 9.3.4), as dcmjs-dimse reports it. */
export function rejectionReason(rejection: { source?: number; reason?: number }): string {
  const { RejectReason, RejectSource } = constants;
  if (rejection.source === RejectSource.ServiceUser) {
    if (rejection.reason === RejectReason.CallingAeNotRecognized)
      return 'calling AE title not recognised';
    if (rejection.reason === RejectReason.CalledAeNotRecognized)
      return 'called AE title not recognised';
  }
  if (rejection.source === RejectSource.ServiceProviderPresentation) {
    if (rejection.reason === RejectReason.TemporaryCongestion) return 'temporary congestion';
    if (rejection.reason === RejectReason.LocalLimitExceeded) return 'local limit exceeded';
  }
  return `source ${rejection.source ?? '?'}, reason ${rejection.reason ?? '?'}`;
}

/** One C-ECHO from our AE title to theirs: ok, or what failed in words. */
export async function dimseEcho(
  connection: PacsConnection,
  timeoutMs = ECHO_TIMEOUT_MS,
): Promise<{ ok: boolean; message: string }> {
  const server = dimseServer(connection);
  const request = new CEchoRequest();
  let status: number | null = null;
  request.on('response', (response: DimseResponse) => {
    status = response.getStatus();
  });
  try {
    await associate(connection, [request], { what: 'C-ECHO', idleTimeoutMs: timeoutMs });
  } catch (error) {
    return { ok: false, message: (error as Error).message };
  }
  if (status === constants.Status.Success)
    return { ok: true, message: `${server} answers C-ECHO from ${connection.ourAet}` };
  if (status !== null)
    return {
      ok: false,
      message: `${server}: C-ECHO answered with status 0x${(status as number).toString(16)}`,
    };
  return { ok: false, message: `${server}: the association ended without a C-ECHO answer` };
}

/** What this room reads of a dcmjs-dimse response. */
export interface DimseResponse {
  getStatus(): number;
  getErrorComment(): string;
  hasDataset(): boolean;
  getDataset(): { getElements(): Record<string, unknown> } | undefined;
}

export type DimseRequest = InstanceType<typeof dimse.requests.Request>;

export interface AssociateOptions {
  /** What is asked, for messages ("C-FIND of studies"). */
  what: string;
  signal?: AbortSignal;
  idleTimeoutMs?: number;
  /** Where instances the peer sends on this association (C-GET) go. */
  sink?: InstanceSink;
  /**
   * SOP classes the peer may send us on this association (C-GET), beyond the library's image
   * storage classes (a SEG, an SR, a presentation state).
   */
  sopClasses?: string[];
  /** Gets the client once its association is under way (to C-CANCEL a request on it). */
  onClient?: (client: InstanceType<typeof Client>) => void;
}

/**
 * Runs `requests` on one association from our AE title to the connection's, resolving once it is
 * released. Rejection, a network error, the peer closing or aborting before every request has its
 * final response, and silence past the idle timeout all fail naming the server; cancel aborts the
 * association and throws PacsCancelledError. Each response and each arriving instance restarts
 * the idle timer.
 */
export function associate(
  connection: PacsConnection,
  requests: DimseRequest[],
  options: AssociateOptions,
): Promise<void> {
  const server = dimseServer(connection);
  const { what } = options;
  if (!connection.host || !connection.port || !connection.aet || !connection.ourAet)
    return Promise.reject(new PacsRequestError(`${server}: incomplete DIMSE settings`, 0));
  if (options.signal?.aborted) return Promise.reject(new PacsCancelledError());
  const { host, port, aet, ourAet } = connection;
  const idleMs = options.idleTimeoutMs ?? DIMSE_IDLE_TIMEOUT_MS;
  return new Promise<void>((resolve, reject) => {
    const client = new Client();
    let settled = false;
    let accepted = false;
    let finals = 0;
    let timer: NodeJS.Timeout | undefined;
    const finish = (error?: Error) => {
      if (settled) return;
      settled = true;
      clearTimeout(timer);
      options.signal?.removeEventListener('abort', onAbort);
      if (error) reject(error);
      else resolve();
    };
    const abort = () => {
      try {
        client.abort();
      } catch {
        // No network yet, or already closed.
      }
    };
    const arm = () => {
      clearTimeout(timer);
      timer = setTimeout(() => {
        abort();
        finish(
          new PacsRequestError(
            `${server}: ${what} failed: nothing received for ${idleMs / 1000} s (the server is slow or stopped answering)`,
            0,
          ),
        );
      }, idleMs);
    };
    const onAbort = () => {
      abort();
      finish(new PacsCancelledError());
    };
    options.signal?.addEventListener('abort', onAbort, { once: true });
    for (const request of requests) {
      request.on('response', (response: DimseResponse) => {
        arm();
        if (response.getStatus() !== constants.Status.Pending) finals++;
      });
      client.addRequest(request);
    }
    client.on('associationAccepted', () => {
      accepted = true;
      arm();
    });
    client.on('associationRejected', (rejection: { source?: number; reason?: number }) =>
      finish(
        new PacsRequestError(
          `${server}: ${what} failed: the association from ${ourAet} was rejected (${rejectionReason(rejection)}): check both AE titles`,
          0,
        ),
      ),
    );
    client.on('networkError', (error: Error) =>
      finish(
        new PacsRequestError(
          accepted
            ? `${server}: ${what} failed: the connection broke (${error.message})`
            : `${server}: ${what} failed: the server could not be reached (${error.message})`,
          0,
        ),
      ),
    );
    client.on('closed', () => {
      if (!accepted)
        finish(
          new PacsRequestError(
            `${server}: ${what} failed: the server closed the connection before accepting an association`,
            0,
          ),
        );
      else if (finals < requests.length)
        finish(
          new PacsRequestError(
            `${server}: ${what} failed: the server ended the association before it answered (aborted or closed half-way)`,
            0,
          ),
        );
      else finish();
    });
    arm();
    client.send(host, port, ourAet, aet, {
      connectTimeout: Math.min(idleMs, 30_000),
      associationTimeout: idleMs,
      pduTimeout: idleMs,
      associationLingerTimeout: 0,
    });
    options.onClient?.(client);
    if (options.sink) {
      const streams = streamingStore(client, options.sink, options.sopClasses ?? []);
      client.on('cStoreRequest', (request: StoreRequest, callback: (response: unknown) => void) => {
        arm();
        callback(streams.respond(request));
      });
      // A peer that stops mid-instance leaves a .part file: removed when the association ends.
      client.on('closed', () => streams.abandon());
    }
  });
}
