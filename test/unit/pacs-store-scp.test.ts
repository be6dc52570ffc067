/**
 * `qataseg serve --store-scp` as a user runs it, with dcmtk as the independent peer: echoscu and
 * storescu from an AE title on the project's allow list (`qataseg pacs allow`) are served and the
 * stored CRs (made by pydicom) are imported as they arrive; a calling AE title not on the list is
 * refused at association, and the refusal is logged. Orthanc, asked by dcmtk's movescu, pushes a
 * study to us by C-MOVE (its AE title is allowed as that of a DIMSE connection of the project);
 * an instance the project holds already is skipped on arrival. Then the same without the HTTP
 * server (--no-http).
 */
import { execFileSync, spawn, spawnSync, type ChildProcess } from 'node:child_process';
import path from 'node:path';
import readline from 'node:readline';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { ProjectStore } from '../../src/core/project/store';
import { gradient, tempDir, writeDicom } from './dicom-fixtures';
import { freePort, orthancAvailable, startOrthanc, type Orthanc } from './pacs-orthanc';

const BIN = path.join(import.meta.dirname, '..', '..', 'bin', 'qataseg.mjs');
const STUDY = '1.2.826.0.1.3680043.8.498.900';
const MOVED_STUDY = '1.2.826.0.1.3680043.8.498.901';
const AET = 'QATASEG';

function crs(dir: string, study: string, count: number, patient: string): string[] {
  return writeDicom(
    dir,
    Array.from({ length: count }, (_unused, index) => ({
      name: `cr${index + 1}.dcm`,
      rows: 16,
      columns: 20,
      values: gradient(16, 20, 255, index),
      sopInstance: `${study}.1.${index + 1}`,
      study,
      series: `${study}.1`,
      tags: { PatientID: patient },
    })),
  );
}

function qataseg(args: string[]): { code: number; stdout: string; stderr: string } {
  const run = spawnSync(process.execPath, [BIN, ...args], { encoding: 'utf8' });
  return { code: run.status ?? -1, stdout: run.stdout, stderr: run.stderr };
}

interface Serving {
  child: ChildProcess;
  port: number;
  stderr(): string;
  /** Resolves once stderr has a line matching `pattern` (60 s at most). */
  waitFor(pattern: RegExp): Promise<void>;
  stop(): Promise<number | null>;
}

async function serve(args: string[]): Promise<Serving> {
  const child = spawn(process.execPath, [BIN, 'serve', '--json', ...args], {
    stdio: ['ignore', 'pipe', 'pipe'],
    env: { ...process.env, QATASEG_BACKEND: 'cpu' },
  });
  let stderr = '';
  const waiters: { pattern: RegExp; resolve(): void }[] = [];
  child.stderr.setEncoding('utf8');
  child.stderr.on('data', (chunk: string) => {
    stderr += chunk;
    for (const waiter of waiters.splice(0))
      if (waiter.pattern.test(stderr)) waiter.resolve();
      else waiters.push(waiter);
  });
  const line = await new Promise<string>((resolve, reject) => {
    const lines = readline.createInterface({ input: child.stdout });
    lines.once('line', resolve);
    child.once('exit', (code) => reject(new Error(`serve exited ${code}: ${stderr}`)));
  });
  const { storeScp } = JSON.parse(line) as { storeScp: number };
  return {
    child,
    port: storeScp,
    stderr: () => stderr,
    waitFor: (pattern) =>
      new Promise<void>((resolve, reject) => {
        if (pattern.test(stderr)) return resolve();
        const timer = setTimeout(
          () => reject(new Error(`no ${pattern} in serve's stderr:\n${stderr}`)),
          60_000,
        );
        waiters.push({
          pattern,
          resolve: () => {
            clearTimeout(timer);
            resolve();
          },
        });
      }),
    stop: () =>
      new Promise((resolve) => {
        child.once('exit', (code) => resolve(code));
        child.kill('SIGTERM');
      }),
  };
}

function sopsIn(project: string): string[] {
  const store = ProjectStore.open(project);
  try {
    return (
      store.db.prepare('SELECT sop_instance_uid AS uid FROM dicom_images ORDER BY uid').all() as {
        uid: string;
      }[]
    ).map((row) => row.uid);
  } finally {
    store.close();
  }
}

describe.skipIf(!orthancAvailable())('qataseg serve --store-scp', () => {
  let orthanc: Orthanc;
  let files: string[];

  beforeAll(async () => {
    orthanc = await startOrthanc();
    files = crs(tempDir('qataseg-scp-src-'), STUDY, 3, 'PUSH-1');
  }, 60_000);

  afterAll(async () => {
    await orthanc?.stop();
  });

  it('serves echoscu and storescu from an allowed AE, imports what arrives, refuses others', async () => {
    const project = tempDir('qataseg-scp-project-');
    const allowed = qataseg(['pacs', 'allow', 'MODALITY1', '--project', project, '--json']);
    expect(allowed.code).toBe(0);
    expect(JSON.parse(allowed.stdout)).toEqual({ allowed: ['MODALITY1'] });
    const port = await freePort();
    const server = await serve(['--project', project, '--port', '0', '--store-scp', String(port)]);
    try {
      expect(server.port).toBe(port);
      execFileSync('echoscu', ['-aet', 'MODALITY1', '-aec', AET, '127.0.0.1', String(port)]);
      // Not on the list: the association is rejected (dcmtk exits non-zero) and we log why.
      const refused = spawnSync(
        'echoscu',
        ['-aet', 'INTRUDER', '-aec', AET, '127.0.0.1', String(port)],
        { encoding: 'utf8' },
      );
      expect(refused.status).not.toBe(0);
      expect(refused.stderr).toMatch(/Association Rejected/i);
      await server.waitFor(
        /refused an association from INTRUDER .*not in the project's allow list/,
      );
      const intruder = spawnSync(
        'storescu',
        ['-aet', 'INTRUDER', '-aec', AET, '127.0.0.1', String(port), files[0]],
        { encoding: 'utf8' },
      );
      expect(intruder.status).not.toBe(0);
      execFileSync('storescu', [
        '-aet',
        'MODALITY1',
        '-aec',
        AET,
        '127.0.0.1',
        String(port),
        ...files,
      ]);
      await server.waitFor(/imported 3 received instance\(s\): 3 added/);
    } finally {
      expect(await server.stop()).toBe(0);
    }
    expect(sopsIn(project)).toEqual([`${STUDY}.1.1`, `${STUDY}.1.2`, `${STUDY}.1.3`]);
  }, 120_000);

  it('Orthanc pushes by C-MOVE (started by movescu) without the HTTP server; held instances are skipped', async () => {
    const project = tempDir('qataseg-scp-move-');
    const port = await freePort();
    const moving = await startOrthanc({ modalities: { qataseg: [AET, '127.0.0.1', port] } });
    try {
      const moved = crs(tempDir('qataseg-scp-move-src-'), MOVED_STUDY, 2, 'PUSH-2');
      moving.store(moved);
      // Orthanc's AE title is allowed as a DIMSE connection's; one of the study is held already.
      expect(
        qataseg([
          'pacs',
          'add',
          'orthanc',
          '--project',
          project,
          '--dimse',
          `${moving.aet}@127.0.0.1:${moving.dicomPort}`,
          '--our-aet',
          AET,
          '--our-port',
          String(port),
        ]).code,
      ).toBe(0);
      const server = await serve(['--project', project, '--no-http', '--store-scp', String(port)]);
      try {
        execFileSync('storescu', [
          '-aet',
          moving.aet,
          '-aec',
          AET,
          '127.0.0.1',
          String(port),
          moved[0],
        ]);
        await server.waitFor(/imported 1 received instance\(s\): 1 added/);
        execFileSync('movescu', [
          '-S',
          // Orthanc moves for the modalities it knows (ours, at this address).
          '-aet',
          AET,
          '-aec',
          moving.aet,
          '-aem',
          AET,
          '-k',
          'QueryRetrieveLevel=STUDY',
          '-k',
          `StudyInstanceUID=${MOVED_STUDY}`,
          '127.0.0.1',
          String(moving.dicomPort),
        ]);
        await server.waitFor(/imported 1 received instance\(s\): 1 added, 1 unchanged/);
      } finally {
        expect(await server.stop()).toBe(0);
      }
      expect(sopsIn(project)).toEqual([`${MOVED_STUDY}.1.1`, `${MOVED_STUDY}.1.2`]);
    } finally {
      await moving.stop();
    }
  }, 120_000);
});
