/** Handlers of the PACS room's contract methods (src/shared/contract-pacs.ts). */
import { ApiError } from '../../shared/contract';
import type { PacsConnection, PacsEchoResult } from '../../shared/pacs-schemas';
import type { ProjectStore } from '../project/store';
import type { HandlerGroup, ServiceContext } from './context';
import {
  addConnection,
  FileSecretStore,
  getConnection,
  listConnections,
  PacsConnectionError,
  removeConnection,
  type SecretStore,
} from '../pacs/connections';
import {
  call,
  dicomwebSession,
  PacsCancelledError,
  PacsRequestError,
  type DicomwebSession,
} from '../pacs/dicomweb';
import { changeAllowList } from '../pacs/allow-list';
import { dimseEcho } from '../pacs/dimse';
import { dimseRetrieveIntoProject } from '../pacs/dimse-retrieve';
import { dimseSearchStudies } from '../pacs/dimse-search';
import { cStoreStore } from '../pacs/dimse-send';
import { retrieveIntoProject } from '../pacs/retrieve';
import { searchStudies } from '../pacs/search';
import { PacsSendError, sendSegmentations, stowStore } from '../pacs/send';
import { CancelledError } from '../job-reporter';

/** The host's secret store for a project (Electron's safeStorage, else owner-only files). */
export function secretsOf(context: ServiceContext, store: ProjectStore): SecretStore {
  return context.options.secretStore?.(store.dir) ?? new FileSecretStore(store.dir);
}

/** The room's errors as the contract's: refusals naming the server, cancel as cancel. */
function contractError(error: unknown): unknown {
  if (error instanceof PacsConnectionError) return new ApiError(error.code, error.message);
  if (error instanceof PacsRequestError || error instanceof PacsSendError)
    return new ApiError('bad-request', error.message);
  if (error instanceof PacsCancelledError) return new CancelledError();
  return error;
}

async function guarded<T>(run: () => Promise<T> | T): Promise<T> {
  try {
    return await run();
  } catch (error) {
    throw contractError(error);
  }
}

function sessionOf(context: ServiceContext, name: string): DicomwebSession {
  const store = context.project();
  const secrets = secretsOf(context, store);
  const connection = getConnection(store, secrets, name);
  return dicomwebSession(connection, connection.auth === 'none' ? null : secrets.get(name));
}

/** The connection: DICOMweb with its session ready, or DIMSE (no session: one association per call). */
function peerOf(
  context: ServiceContext,
  name: string,
): { kind: 'dicomweb'; session: DicomwebSession } | { kind: 'dimse'; connection: PacsConnection } {
  const store = context.project();
  const connection = getConnection(store, secretsOf(context, store), name);
  if (connection.kind === 'dimse') return { kind: 'dimse', connection };
  return { kind: 'dicomweb', session: sessionOf(context, name) };
}

/** Whether the server answers a QIDO-RS query, and what went wrong if not. */
export async function echoConnection(
  connection: PacsConnection,
  open: () => DicomwebSession,
): Promise<PacsEchoResult> {
  if (connection.kind !== 'dicomweb') {
    const echo = await dimseEcho(connection);
    return { name: connection.name, ok: echo.ok, checks: [{ what: 'C-ECHO', ...echo }] };
  }
  try {
    const session = open();
    await call(session, 'a QIDO-RS probe', undefined, (request) =>
      session.client.searchForStudies({ queryParams: { limit: 1 }, request }),
    );
    return {
      name: connection.name,
      ok: true,
      checks: [{ what: 'QIDO-RS', ok: true, message: `${connection.url} answers a study query` }],
    };
  } catch (error) {
    const message = error instanceof Error ? error.message : String(error);
    return { name: connection.name, ok: false, checks: [{ what: 'QIDO-RS', ok: false, message }] };
  }
}

export const pacsHandlers: HandlerGroup = {
  'pacs.list': (_input, context) => {
    const store = context.project();
    return listConnections(store, secretsOf(context, store));
  },
  'pacs.add': (input, context) =>
    guarded(() => {
      const store = context.project();
      return addConnection(store, secretsOf(context, store), input);
    }),
  'pacs.remove': (input, context) => {
    const store = context.project();
    return { removed: removeConnection(store, secretsOf(context, store), input.name) };
  },
  'pacs.echo': (input, context) =>
    guarded(() => {
      const store = context.project();
      const connection = getConnection(store, secretsOf(context, store), input.name);
      return echoConnection(connection, () => sessionOf(context, input.name));
    }),
  'pacs.search': (input, context) =>
    guarded(() => {
      const peer = peerOf(context, input.name);
      return peer.kind === 'dimse'
        ? dimseSearchStudies(peer.connection, input)
        : searchStudies(peer.session, input);
    }),
  'pacs.retrieve': (input, context) => {
    const store = context.project();
    // Checked before the job starts: an unknown name or a missing secret is the caller's error.
    const peer = guarded(() => peerOf(context, input.name));
    return peer.then((ready) =>
      context.jobs.startExclusive(
        `pacs-retrieve:${store.dir}`,
        `a retrieve from ${input.name}`,
        'pacs-retrieve',
        async () => async (reporter) => {
          try {
            return await guarded(() =>
              ready.kind === 'dimse'
                ? dimseRetrieveIntoProject(store, ready.connection, input, reporter)
                : retrieveIntoProject(store, ready.session, input, reporter),
            );
          } finally {
            // The worklist follows what the import added, as after Open dataset.
            if (context.projectOrNull() === store) {
              context.emit('project.changed', context.projectState());
              context.emit('images.changed', { reason: 'import' });
            }
          }
        },
      ),
    );
  },
  'pacs.allow': (input, context) => ({ allowed: changeAllowList(context.project(), input) }),
  'pacs.send': (input, context) => {
    const store = context.project();
    return guarded(() => peerOf(context, input.name)).then((ready) =>
      context.jobs.start('pacs-send', (reporter) =>
        guarded(() =>
          sendSegmentations(
            store,
            ready.kind === 'dimse' ? cStoreStore(ready.connection) : stowStore(ready.session),
            input,
            reporter,
          ),
        ),
      ),
    );
  },
};
