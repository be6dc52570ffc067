/**
 * A DICOMweb server that stops half-way: it lists an instance (QIDO-RS) but sends only the start of
 * the multipart WADO-RS response and then nothing. The request fails after the idle timeout with a
 * message naming the server and saying what happened; nothing is written or imported.
 */
import http from 'node:http';
import fs from 'node:fs';
import type { AddressInfo } from 'node:net';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { ProjectStore } from '../../src/core/project/store';
import { addConnection, FileSecretStore, getConnection } from '../../src/core/pacs/connections';
import { dicomwebSession } from '../../src/core/pacs/dicomweb';
import { retrieveFolder, retrieveIntoProject } from '../../src/core/pacs/retrieve';
import { searchStudies } from '../../src/core/pacs/search';
import { tempDir } from './dicom-fixtures';

const STUDY = '1.2.3.4';
const SERIES = '1.2.3.4.1';
const SOP = '1.2.3.4.1.1';

describe('a DICOMweb server that stops answering half-way', () => {
  let server: http.Server;
  let url: string;
  const held: http.ServerResponse[] = [];

  beforeAll(async () => {
    server = http.createServer((request, response) => {
      const path = request.url ?? '';
      if (path.includes('/instances?')) {
        response.writeHead(200, { 'Content-Type': 'application/dicom+json' });
        response.end(
          JSON.stringify([
            {
              '00080018': { vr: 'UI', Value: [SOP] },
              '0020000E': { vr: 'UI', Value: [SERIES] },
            },
          ]),
        );
        return;
      }
      // QIDO-RS studies and WADO-RS: the start of an answer, then silence.
      response.writeHead(200, {
        'Content-Type': path.includes('/instances/')
          ? 'multipart/related; type="application/dicom"; boundary=b'
          : 'application/dicom+json',
      });
      response.write(
        path.includes('/instances/')
          ? '--b\r\nContent-Type: application/dicom\r\n\r\nDI'
          : '[{"0020',
      );
      held.push(response);
    });
    await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
    url = `http://127.0.0.1:${(server.address() as AddressInfo).port}/dicom-web`;
  });

  afterAll(async () => {
    for (const response of held) response.destroy();
    await new Promise((resolve) => server.close(resolve));
  });

  it('fails the search and the instance naming the server; nothing is written or imported', async () => {
    const store = ProjectStore.open(tempDir('qataseg-pacs-stalled-'));
    try {
      const secrets = new FileSecretStore(store.dir);
      addConnection(store, secrets, { name: 'stalls', kind: 'dicomweb', url });
      const session = dicomwebSession(getConnection(store, secrets, 'stalls'), null, {
        idleTimeoutMs: 500,
      });
      await expect(searchStudies(session, { name: 'stalls' })).rejects.toThrow(
        `PACS stalls (${url}): searching studies (QIDO-RS) failed: nothing received for 0.5 s`,
      );
      const result = await retrieveIntoProject(
        store,
        session,
        { name: 'stalls', studyInstanceUid: STUDY },
        { signal: new AbortController().signal, progress: () => undefined },
      );
      expect(result).toMatchObject({ listed: 1, fetched: 0, import: null });
      expect(result.failed.map((failure) => failure.sopInstanceUid)).toEqual([SOP]);
      expect(result.failed[0].reason).toContain(
        `PACS stalls (${url}): retrieving instance ${SOP} (WADO-RS) failed: nothing received`,
      );
      expect(fs.existsSync(retrieveFolder(store, 'stalls'))).toBe(false);
      expect(store.db.prepare('SELECT COUNT(*) AS n FROM images').get()).toEqual({ n: 0 });
    } finally {
      store.close();
    }
  }, 30_000);
});
