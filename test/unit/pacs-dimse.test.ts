/**
 * DIMSE C-ECHO (dcmjs-dimse) against a real Orthanc's DICOM port, beside dcmtk's echoscu as the
 * independent check of the same server; an unreachable port fails naming the server.
 */
import { execFileSync } from 'node:child_process';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createService, type Service } from '../../src/core/service';
import { tempDir } from './dicom-fixtures';
import { freePort, orthancAvailable, startOrthanc, type Orthanc } from './pacs-orthanc';

describe.skipIf(!orthancAvailable())('PACS over DIMSE against Orthanc', () => {
  let orthanc: Orthanc;
  let service: Service;

  beforeAll(async () => {
    orthanc = await startOrthanc();
    service = createService({ transport: 'http', projectDir: tempDir('qataseg-pacs-dimse-') });
  }, 60_000);

  afterAll(async () => {
    service?.close();
    await orthanc?.stop();
  });

  it('C-ECHO succeeds where dcmtk echoscu does, and fails naming an unreachable server', async () => {
    // dcmtk's own C-ECHO to the same AE: the server is up and accepts our AE title.
    execFileSync('echoscu', [
      '-aet',
      'QATASEG',
      '-aec',
      orthanc.aet,
      '127.0.0.1',
      String(orthanc.dicomPort),
    ]);
    await service.invoke('pacs.add', {
      name: 'orthanc-dimse',
      kind: 'dimse',
      host: '127.0.0.1',
      port: orthanc.dicomPort,
      aet: orthanc.aet,
      ourAet: 'QATASEG',
      ourPort: 11112,
    });
    const echo = await service.invoke('pacs.echo', { name: 'orthanc-dimse' });
    expect(echo.ok).toBe(true);
    expect(echo.checks[0]).toMatchObject({ what: 'C-ECHO', ok: true });

    const port = await freePort();
    await service.invoke('pacs.add', {
      name: 'dimse-gone',
      kind: 'dimse',
      host: '127.0.0.1',
      port,
      aet: 'NOBODY',
      ourAet: 'QATASEG',
      ourPort: 11112,
    });
    const failed = await service.invoke('pacs.echo', { name: 'dimse-gone' });
    expect(failed.ok).toBe(false);
    expect(failed.checks[0].message).toContain(`PACS dimse-gone (NOBODY@127.0.0.1:${port})`);
    expect(failed.checks[0].message).toMatch(/could not be reached/);
  }, 60_000);
});
