/**
 * Pushes into the project (`qataseg serve --store-scp PORT`): our store SCP (./store-scp.ts)
 * accepts C-STORE from allowed calling AE titles (./allow-list.ts), streams each instance to
 * `<project>/pacs/@push/<calling AE>/<sop>.dcm` ("@" is not allowed in a connection name, so the
 * folder is no connection's), skipping on arrival an instance the project already holds (same SOP
 * Instance UID), and imports that folder in batches: once arrivals pause for `quietMs` (or every
 * `maxWaitMs` during a steady stream), one import runs, and a batch due meanwhile waits for it.
 * The import is the host's (through the Service, as a dataset.import job), so it queues with the
 * project's other writers.
 */
import fs from 'node:fs';
import path from 'node:path';
import type { ImportResult } from '../../shared/dataset-schemas';
import { projectImagesBySopInstance } from '../project/dicom-tags';
import type { ProjectStore } from '../project/store';
import { mayPush } from './allow-list';
import type { InstanceSink } from './dimse-files';
import { retrieveFolder } from './retrieve';
import { startStoreScp, type StoreScp } from './store-scp';

export const PUSH_FOLDER = '@push';

export interface PushReceiverOptions {
  port: number;
  host?: string;
  aet: string;
  store(): ProjectStore;
  /** Imports the push folder (the host runs it as a job); resolves with its report. */
  importFolder(root: string): Promise<ImportResult>;
  log(line: string): void;
  quietMs?: number;
  maxWaitMs?: number;
}

export interface PushReceiver extends StoreScp {
  /** The folder pushed instances are written to and imported from. */
  readonly folder: string;
  /** Resolves once no batch is waiting or running (for an orderly stop). */
  idle(): Promise<void>;
}

function safeName(aet: string): string {
  return aet.trim().replace(/[^A-Za-z0-9_.-]/g, '_') || 'unnamed';
}

export async function startPushReceiver(options: PushReceiverOptions): Promise<PushReceiver> {
  const quietMs = options.quietMs ?? 1000;
  const maxWaitMs = options.maxWaitMs ?? 10_000;
  const folder = retrieveFolder(options.store(), PUSH_FOLDER);
  let pending = 0;
  let firstPending = 0;
  let timer: NodeJS.Timeout | undefined;
  let running: Promise<void> = Promise.resolve();
  let busy = false;

  const runBatch = () => {
    timer = undefined;
    const count = pending;
    pending = 0;
    busy = true;
    running = running
      .then(async () => {
        const result = await options.importFolder(folder);
        const { refresh, report } = result;
        options.log(
          `store SCP: imported ${count} received instance(s): ${refresh.added} added, ${refresh.unchanged} unchanged, ${report.skipped.length} skipped, ${report.warnings.length} warning(s)`,
        );
        for (const entry of report.skipped.slice(0, 20))
          options.log(`store SCP:   skipped ${entry.path}: ${entry.reason}`);
      })
      .catch((error: unknown) => {
        options.log(`store SCP: import failed: ${(error as Error).message}`);
      })
      .finally(() => {
        busy = pending > 0 || timer !== undefined;
      });
  };

  const schedule = () => {
    const now = Date.now();
    if (pending === 1) firstPending = now;
    clearTimeout(timer);
    const wait = Math.max(0, Math.min(quietMs, firstPending + maxWaitMs - now));
    timer = setTimeout(runBatch, wait);
  };

  const sink = (calling: string): InstanceSink => {
    const held = projectImagesBySopInstance(options.store().db);
    const dir = path.join(folder, safeName(calling));
    return {
      target({ sopInstanceUid }) {
        if (held.has(sopInstanceUid)) return { skip: 'already in the project' };
        return path.join(dir, `${sopInstanceUid}.dcm`);
      },
      stored(outcome) {
        if (outcome.file) {
          pending++;
          schedule();
        } else if (!outcome.skipped)
          options.log(
            `store SCP: ${outcome.sopInstanceUid} from ${calling} not kept: ${outcome.reason}`,
          );
      },
    };
  };

  fs.mkdirSync(folder, { recursive: true });
  const scp = await startStoreScp({
    port: options.port,
    host: options.host,
    aet: options.aet,
    allowed: (calling) => mayPush(options.store(), calling),
    sink,
    log: (line) => options.log(line),
  });
  return {
    port: scp.port,
    folder,
    close: () => scp.close(),
    async idle() {
      while (timer !== undefined || busy) {
        if (timer !== undefined) {
          clearTimeout(timer);
          runBatch();
        }
        await running;
      }
    },
  };
}
