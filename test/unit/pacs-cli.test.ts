/**
 * `qataseg pacs` against a real Orthanc with a password: add (password from stdin, never on the
 * command line or in the output), list, echo, search and retrieve with --json, and an unreachable
 * server's echo exiting 1 naming it. Then the same commands (and send) over DIMSE.
 */
import { spawn } from 'node:child_process';
import fs from 'node:fs';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import {
  pacsConnectionSchema,
  pacsEchoResultSchema,
  pacsRetrieveResultSchema,
  pacsSearchResultSchema,
  pacsSendResultSchema,
} from '../../src/shared/pacs-schemas';
import { addCorrection } from '../../src/core/project/masks';
import { encodeGray8 } from '../../src/core/project/mask-png';
import { ProjectStore } from '../../src/core/project/store';
import { gradient, tempDir, writeDicom } from './dicom-fixtures';
import { freePort, orthancAvailable, startOrthanc, type Orthanc } from './pacs-orthanc';

const BIN = path.join(import.meta.dirname, '..', '..', 'bin', 'qataseg.mjs');
const STUDY = '1.2.826.0.1.3680043.8.498.300';

function qataseg(
  args: string[],
  stdin = '',
): Promise<{ code: number; stdout: string; stderr: string }> {
  return new Promise((resolve) => {
    const child = spawn(process.execPath, [BIN, ...args], { stdio: ['pipe', 'pipe', 'pipe'] });
    let stdout = '';
    let stderr = '';
    child.stdout.on('data', (chunk: Buffer) => (stdout += chunk.toString()));
    child.stderr.on('data', (chunk: Buffer) => (stderr += chunk.toString()));
    child.on('close', (code) => resolve({ code: code ?? -1, stdout, stderr }));
    child.stdin.end(stdin);
  });
}

/** The last JSON line of --json output (progress lines come before it). */
function lastJson(stdout: string): unknown {
  const lines = stdout.trim().split('\n');
  return JSON.parse(lines[lines.length - 1]);
}

describe.skipIf(!orthancAvailable())('qataseg pacs against Orthanc', () => {
  let orthanc: Orthanc;
  let project: string;

  beforeAll(async () => {
    orthanc = await startOrthanc({ withPassword: true });
    const files = writeDicom(
      tempDir('qataseg-pacs-cli-src-'),
      [1, 2].map((n) => ({
        name: `i${n}.dcm`,
        rows: 16,
        columns: 20,
        values: gradient(16, 20, 255, n),
        sopInstance: `${STUDY}.1.${n}`,
        study: STUDY,
        series: `${STUDY}.1`,
        tags: { PatientID: 'CLI-1', StudyDate: '20240102' },
      })),
    );
    orthanc.store(files);
    project = tempDir('qataseg-pacs-cli-project-');
  }, 60_000);

  afterAll(async () => {
    await orthanc?.stop();
  });

  it('adds with the password from stdin, lists, echoes, searches and retrieves', async () => {
    const added = await qataseg(
      [
        'pacs',
        'add',
        'main',
        '--project',
        project,
        '--dicomweb',
        orthanc.dicomweb,
        '--user',
        orthanc.user,
        '--password-stdin',
        '--json',
      ],
      `${orthanc.password}\n`,
    );
    expect(added.stderr).toBe('');
    expect(added.code).toBe(0);
    expect(added.stdout).not.toContain(orthanc.password);
    expect(pacsConnectionSchema.parse(lastJson(added.stdout))).toMatchObject({
      name: 'main',
      auth: 'basic',
      hasSecret: true,
    });
    expect(fs.readFileSync(path.join(project, '.secrets', 'main'), 'utf8')).toBe(orthanc.password);

    const listed = await qataseg(['pacs', 'list', '--project', project, '--json']);
    expect(listed.code).toBe(0);
    expect(listed.stdout).not.toContain(orthanc.password);

    const echo = await qataseg(['pacs', 'echo', 'main', '--project', project, '--json']);
    expect(pacsEchoResultSchema.parse(lastJson(echo.stdout)).ok).toBe(true);
    expect(echo.code).toBe(0);

    const search = await qataseg([
      'pacs',
      'search',
      'main',
      '--project',
      project,
      '--patient-id',
      'CLI-1',
      '--json',
    ]);
    expect(search.code).toBe(0);
    const page = pacsSearchResultSchema.parse(lastJson(search.stdout));
    expect(page.studies.map((study) => [study.studyInstanceUid, study.instances])).toEqual([
      [STUDY, 2],
    ]);

    const retrieve = await qataseg([
      'pacs',
      'retrieve',
      'main',
      '--project',
      project,
      '--study',
      STUDY,
      '--json',
    ]);
    expect(retrieve.stderr).toBe('');
    expect(retrieve.code).toBe(0);
    const result = pacsRetrieveResultSchema.parse(lastJson(retrieve.stdout));
    expect(result).toMatchObject({ listed: 2, fetched: 2, alreadyHeld: 0, failed: [] });
    expect(result.import?.refresh.added).toBe(2);
  }, 120_000);

  it('echo of an unreachable server exits 1 naming it; an unknown name is refused', async () => {
    const port = await freePort();
    const url = `http://127.0.0.1:${port}/dicom-web`;
    const added = await qataseg(['pacs', 'add', 'gone', '--project', project, '--dicomweb', url]);
    expect(added.code).toBe(0);
    const echo = await qataseg(['pacs', 'echo', 'gone', '--project', project]);
    expect(echo.code).toBe(1);
    expect(echo.stdout).toContain(`PACS gone (${url})`);
    expect(echo.stdout).toMatch(/could not be reached/);
    const unknown = await qataseg(['pacs', 'search', 'absent', '--project', project]);
    expect(unknown.code).toBe(2);
    expect(unknown.stderr).toMatch(/no PACS connection named absent/);
  }, 60_000);
});

describe.skipIf(!orthancAvailable())('qataseg pacs over DIMSE against Orthanc', () => {
  let orthanc: Orthanc;
  let project: string;
  const study = '1.2.826.0.1.3680043.8.498.310';

  beforeAll(async () => {
    orthanc = await startOrthanc();
    orthanc.store(
      writeDicom(
        tempDir('qataseg-pacs-cli-dimse-src-'),
        [1, 2].map((n) => ({
          name: `d${n}.dcm`,
          rows: 16,
          columns: 20,
          values: gradient(16, 20, 255, n),
          sopInstance: `${study}.1.${n}`,
          study,
          series: `${study}.1`,
          tags: { PatientID: 'CLI-D', StudyDate: '20240202' },
        })),
      ),
    );
    project = tempDir('qataseg-pacs-cli-dimse-');
  }, 60_000);

  afterAll(async () => {
    await orthanc?.stop();
  });

  it('adds a DIMSE connection, echoes, searches, retrieves (C-GET) and sends (C-STORE)', async () => {
    const run = (args: string[]) => qataseg([...args, '--project', project, '--json']);
    const added = await run([
      'pacs',
      'add',
      'pacs1',
      '--dimse',
      `${orthanc.aet}@127.0.0.1:${orthanc.dicomPort}`,
      '--our-aet',
      'QATASEG',
      '--our-port',
      String(await freePort()),
    ]);
    expect(added.code).toBe(0);
    expect(pacsConnectionSchema.parse(lastJson(added.stdout))).toMatchObject({
      kind: 'dimse',
      aet: orthanc.aet,
    });
    const echo = await run(['pacs', 'echo', 'pacs1']);
    expect(echo.code).toBe(0);
    expect(pacsEchoResultSchema.parse(lastJson(echo.stdout)).checks[0]).toMatchObject({
      what: 'C-ECHO',
      ok: true,
    });
    const search = await run(['pacs', 'search', 'pacs1', '--patient-id', 'CLI-D']);
    expect(search.code).toBe(0);
    const page = pacsSearchResultSchema.parse(lastJson(search.stdout));
    expect(page.studies.map((entry) => [entry.studyInstanceUid, entry.instances])).toEqual([
      [study, 2],
    ]);
    const retrieve = await run(['pacs', 'retrieve', 'pacs1', '--study', study]);
    expect(retrieve.stderr).toBe('');
    expect(retrieve.code).toBe(0);
    const result = pacsRetrieveResultSchema.parse(lastJson(retrieve.stdout));
    expect(result).toMatchObject({ listed: 2, fetched: 2, alreadyHeld: 0, failed: [] });
    expect(result.import?.refresh.added).toBe(2);
    // A reviewer's correction on one image, then its SEG goes back by C-STORE.
    const store = ProjectStore.open(project);
    try {
      const image = store.db.prepare('SELECT id, width, height FROM images ORDER BY id').get() as {
        id: number;
        width: number;
        height: number;
      };
      const mask = new Uint8Array(image.width * image.height).fill(255, 0, image.width * 4);
      addCorrection(store.db, image.id, {
        png: await encodeGray8(mask, image.width, image.height),
        width: image.width,
        height: image.height,
        foreground: image.width * 4,
        author: 'tester',
      });
    } finally {
      store.close();
    }
    const send = await run(['pacs', 'send', 'pacs1', '--source', 'label']);
    expect(send.code).toBe(0);
    expect(pacsSendResultSchema.parse(lastJson(send.stdout))).toMatchObject({
      stored: 1,
      failed: 0,
      skipped: 1,
    });
    const segs = await orthanc.restPost<string[]>('/tools/find', {
      Level: 'Instance',
      Query: { Modality: 'SEG', StudyInstanceUID: study },
    });
    expect(segs).toHaveLength(1);
  }, 120_000);
});
