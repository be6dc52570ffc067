/**
 * DICOMweb with `dicomweb-client`: QIDO-RS search, WADO-RS retrieve of one instance, STOW-RS
 * store. The library speaks XMLHttpRequest; under Node `xhr2` supplies it, one request object per
 * call so a call can be cancelled (abort) and can carry its own TLS agent (a custom CA).
 *
 * Errors become PacsRequestError naming the server and what failed; the secret is put in a header
 * only, and the library's own logging (which prints whole requests) is turned off.
 */
import fs from 'node:fs';
import https from 'node:https';
import net from 'node:net';
import tls from 'node:tls';
import { createRequire } from 'node:module';
import { api } from 'dicomweb-client';
import type { PacsConnection } from '../../shared/pacs-schemas';

const require = createRequire(import.meta.url);

/** xhr2's XMLHttpRequest, with its Node-only option for the TLS agent. */
interface NodeXhr extends XMLHttpRequest {
  nodejsSet(options: { httpsAgent?: https.Agent }): void;
}
type XhrConstructor = new () => NodeXhr;

function xhrClass(): XhrConstructor {
  const global = globalThis as { XMLHttpRequest?: unknown };
  // dicomweb-client calls `new XMLHttpRequest()` itself where no instance is given.
  if (!global.XMLHttpRequest) global.XMLHttpRequest = require('xhr2') as XhrConstructor;
  return require('xhr2') as XhrConstructor;
}

/** A request to a PACS failed: `message` names the server and what was asked. */
export class PacsRequestError extends Error {
  constructor(
    message: string,
    /** HTTP status, 0 when the server was not reached. */
    readonly status: number,
  ) {
    super(message);
    this.name = 'PacsRequestError';
  }
}

export class PacsCancelledError extends Error {
  constructor() {
    super('cancelled');
    this.name = 'PacsCancelledError';
  }
}

type RequestOptions = { instance: NodeXhr; responseType?: XMLHttpRequestResponseType };

/** Silence on a request's socket after which it fails: a slow server, or one that stopped. */
export const IDLE_TIMEOUT_MS = 60_000;
type QueryParams = Record<string, string | number>;

/**
 * The calls of dicomweb-client this room makes. Its own typings declare every option required
 * and answers as `any`; here the answers are `unknown`, checked by the caller.
 */
export interface DicomwebApi {
  searchForStudies(options: {
    queryParams: QueryParams;
    request: RequestOptions;
  }): Promise<unknown>;
  searchForSeries(options: {
    studyInstanceUID: string;
    queryParams: QueryParams;
    request: RequestOptions;
  }): Promise<unknown>;
  searchForInstances(options: {
    /** Absent: an instance query at the root (`/instances`). */
    studyInstanceUID?: string;
    seriesInstanceUID?: string;
    queryParams: QueryParams;
    request: RequestOptions;
  }): Promise<unknown>;
  retrieveInstance(options: {
    studyInstanceUID: string;
    seriesInstanceUID: string;
    sopInstanceUID: string;
    request: RequestOptions;
  }): Promise<unknown>;
  storeInstances(options: { datasets: ArrayBuffer[]; request: RequestOptions }): Promise<unknown>;
}

/** One DICOMweb server as the PACS room uses it. */
export interface DicomwebSession {
  readonly connection: PacsConnection;
  /** Milliseconds of silence on a socket before its request fails. */
  readonly idleTimeoutMs: number;
  client: DicomwebApi;
  /** Request options for one call: a fresh XHR (with the TLS agent where a CA file is set). */
  request(): RequestOptions;
}

export function dicomwebSession(
  connection: PacsConnection,
  secret: string | null,
  options: { idleTimeoutMs?: number } = {},
): DicomwebSession {
  const idleTimeoutMs = options.idleTimeoutMs ?? IDLE_TIMEOUT_MS;
  if (connection.kind !== 'dicomweb' || !connection.url)
    throw new PacsRequestError(`${connection.name} is not a DICOMweb connection`, 0);
  const Xhr = xhrClass();
  const headers: Record<string, string> = {};
  if (connection.auth !== 'none' && secret === null)
    throw new PacsRequestError(
      `${connection.name}: no ${connection.auth === 'basic' ? 'password' : 'token'} is kept for this connection; add it again with one`,
      0,
    );
  if (connection.auth === 'basic')
    headers.Authorization = `Basic ${Buffer.from(`${connection.username ?? ''}:${secret}`).toString('base64')}`;
  else if (connection.auth === 'bearer') headers.Authorization = `Bearer ${secret}`;
  const agent = connection.caFile
    ? new https.Agent({ ca: fs.readFileSync(connection.caFile), rejectUnauthorized: true })
    : undefined;
  const client = new api.DICOMwebClient({
    url: connection.url,
    headers,
    // Its console output would print request objects, headers included.
    verbose: false,
    singlepart: false,
  }) as unknown as DicomwebApi;
  return {
    connection,
    idleTimeoutMs,
    client,
    request() {
      const instance = new Xhr();
      if (agent) instance.nodejsSet({ httpsAgent: agent });
      return { instance };
    },
  };
}

/** What a failed dicomweb-client call means, in words, naming the server. */
export function describeFailure(
  connection: PacsConnection,
  what: string,
  error: unknown,
  signal?: AbortSignal,
): Error {
  if (signal?.aborted) return new PacsCancelledError();
  const status = (error as { status?: unknown } | null)?.status;
  const server = `PACS ${connection.name} (${connection.url})`;
  if (typeof status === 'number') {
    if (status === 0)
      return new PacsRequestError(
        `${server}: ${what} failed: the server could not be reached (connection refused, name not resolved, TLS failure or timeout)`,
        0,
      );
    if (status === 401 || status === 403)
      return new PacsRequestError(
        `${server}: ${what} refused (HTTP ${status}): wrong or missing credentials`,
        status,
      );
    if (status === 404)
      return new PacsRequestError(`${server}: ${what}: not found (HTTP 404)`, status);
    return new PacsRequestError(`${server}: ${what} failed (HTTP ${status})`, status);
  }
  const message = error instanceof Error ? error.message : String(error);
  return new PacsRequestError(`${server}: ${what} failed: ${message}`, 0);
}

/** A TLS refusal by its error code (Node's and OpenSSL's). */
function isTlsError(error: NodeJS.ErrnoException): boolean {
  return /CERT|SSL|TLS|SELF_SIGNED|UNABLE_TO_(GET|VERIFY)/.test(error.code ?? '');
}

/**
 * Why a server gave no HTTP answer at all, asked directly (xhr2 keeps no cause): the TLS
 * handshake's refusal (an untrusted or mismatched certificate) or the socket's error. Null when
 * the server can be reached now.
 */
export function unreachableReason(
  connection: PacsConnection,
  timeoutMs = 5000,
): Promise<string | null> {
  const url = new URL(connection.url ?? '');
  const secure = url.protocol === 'https:';
  const host = url.hostname.replace(/^\[|\]$/g, '');
  const port = Number(url.port) || (secure ? 443 : 80);
  return new Promise((resolve) => {
    let ca: Buffer | undefined;
    try {
      ca = connection.caFile ? fs.readFileSync(connection.caFile) : undefined;
    } catch (error) {
      resolve(`its CA file ${connection.caFile} cannot be read (${(error as Error).message})`);
      return;
    }
    const socket = secure
      ? tls.connect({ host, port, ca, servername: net.isIP(host) ? undefined : host })
      : net.connect({ host, port });
    const timer = setTimeout(
      () => done(`no answer from ${host}:${port} in ${timeoutMs / 1000} s`),
      timeoutMs,
    );
    function done(reason: string | null) {
      clearTimeout(timer);
      socket.destroy();
      resolve(reason);
    }
    socket.once(secure ? 'secureConnect' : 'connect', () => done(null));
    socket.once('error', (error: NodeJS.ErrnoException) =>
      done(
        secure && isTlsError(error)
          ? `TLS failure: the server's certificate is not trusted (${error.message})${connection.caFile ? ` by the CA file ${connection.caFile}` : ': give the CA file that signed it'}`
          : `the server could not be reached (${error.code ?? error.message})`,
      ),
    );
  });
}

/** Stops a request without letting xhr2's half-reset state reach dicomweb-client's handler. */
function stop(instance: NodeXhr): void {
  instance.onreadystatechange = null;
  try {
    instance.abort();
  } catch {
    // Already ended.
  }
}

/**
 * Runs one library call, turning its failure into a PacsRequestError or PacsCancelledError. The
 * library's answers are untyped (`any`): the caller says what it expects and checks it.
 * Cancel and silence (nothing received for the session's idle timeout: a slow server, or one
 * that stopped half-way through a response) are ours to watch: the request is stopped and the
 * call fails at once, whatever state the library's request was left in.
 */
export async function call(
  session: DicomwebSession,
  what: string,
  signal: AbortSignal | undefined,
  run: (request: ReturnType<DicomwebSession['request']>) => unknown,
): Promise<unknown> {
  if (signal?.aborted) throw new PacsCancelledError();
  const request = session.request();
  const { instance } = request;
  let timer: NodeJS.Timeout | undefined;
  let onAbort = () => undefined as void;
  const watched = new Promise<never>((_resolve, reject) => {
    const arm = () => {
      clearTimeout(timer);
      timer = setTimeout(() => {
        stop(instance);
        reject(
          new PacsRequestError(
            `PACS ${session.connection.name} (${session.connection.url}): ${what} failed: nothing received for ${session.idleTimeoutMs / 1000} s (the server is slow or stopped answering)`,
            0,
          ),
        );
      }, session.idleTimeoutMs);
    };
    instance.addEventListener('progress', arm);
    instance.addEventListener('loadstart', arm);
    arm();
    onAbort = () => {
      stop(instance);
      reject(new PacsCancelledError());
    };
    signal?.addEventListener('abort', onAbort, { once: true });
  });
  const running = Promise.resolve().then(() => run(request));
  // The loser of the race must not surface as an unhandled rejection.
  running.catch(() => undefined);
  try {
    return await Promise.race([running, watched]);
  } catch (error) {
    if (error instanceof PacsRequestError || error instanceof PacsCancelledError) throw error;
    const failure = describeFailure(session.connection, what, error, signal);
    if (failure instanceof PacsRequestError && failure.status === 0) {
      // No HTTP answer: say why (TLS, refused, unresolved) rather than list the possibilities.
      const reason = await unreachableReason(session.connection);
      if (reason)
        throw new PacsRequestError(
          `PACS ${session.connection.name} (${session.connection.url}): ${what} failed: ${reason}`,
          0,
        );
    }
    throw failure;
  } finally {
    clearTimeout(timer);
    // One listener per call would pile up on the job's signal over a long series.
    signal?.removeEventListener('abort', onAbort);
  }
}
