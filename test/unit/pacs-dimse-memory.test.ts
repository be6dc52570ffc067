/**
 * A DIMSE retrieve streams to disk: `qataseg pacs retrieve` (C-GET) of a series of 300 CRs of
 * 512 x 512 x 16 bits (150 MiB) from a real Orthanc must not need more memory than that of 30
 * of the same instances plus a margin far below the series' size (peak resident memory, VmHWM, of
 * the CLI process, compared in one run). Then a retrieve is cancelled (whole files only, nothing
 * imported), and the next run, which asks only for the rest, is cut by Orthanc being killed: what
 * came whole is imported, the rest is listed as failed naming the server, no partial file is left.
 */
import { spawn } from 'node:child_process';
import fs from 'node:fs';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { pacsRetrieveResultSchema, type PacsRetrieveResult } from '../../src/shared/pacs-schemas';
import { createService } from '../../src/core/service';
import { retrieveFolder } from '../../src/core/pacs/retrieve';
import { dimseRetrieveIntoProject } from '../../src/core/pacs/dimse-retrieve';
import { PacsCancelledError } from '../../src/core/pacs/dicomweb';
import { gradient, tempDir, writeDicom } from './dicom-fixtures';
import { freePort, orthancAvailable, startOrthanc, type Orthanc } from './pacs-orthanc';

const BIN = path.join(import.meta.dirname, '..', '..', 'bin', 'qataseg.mjs');
const SIZE = 512;
const BIG = '1.2.826.0.1.3680043.8.498.1000';
const SMALL = '1.2.826.0.1.3680043.8.498.1001';
const MIB = 1024 * 1024;

function series(study: string, count: number): string[] {
  return writeDicom(
    tempDir('qataseg-dimse-mem-src-'),
    Array.from({ length: count }, (_unused, index) => ({
      name: `i${index}.dcm`,
      rows: SIZE,
      columns: SIZE,
      values: gradient(SIZE, SIZE, 4095, index),
      bitsAllocated: 16 as const,
      bitsStored: 12,
      sopInstance: `${study}.1.${index + 1}`,
      study,
      series: `${study}.1`,
      tags: { PatientID: `MEM-${study.slice(-4)}` },
    })),
  );
}

/** Runs the CLI, sampling its peak resident memory (VmHWM) until it exits. */
function retrieveMeasured(
  project: string,
  study: string,
): Promise<{ result: PacsRetrieveResult; peak: number }> {
  return new Promise((resolve, reject) => {
    const child = spawn(
      process.execPath,
      [BIN, 'pacs', 'retrieve', 'orthanc', '--project', project, '--study', study, '--json'],
      { stdio: ['ignore', 'pipe', 'pipe'] },
    );
    let stdout = '';
    let stderr = '';
    let peak = 0;
    const sample = setInterval(() => {
      try {
        const status = fs.readFileSync(`/proc/${child.pid}/status`, 'utf8');
        peak = Math.max(peak, Number(/^VmHWM:\s+(\d+) kB/m.exec(status)![1]) * 1024);
      } catch {
        // Exited between samples.
      }
    }, 20);
    child.stdout.on('data', (chunk: Buffer) => (stdout += chunk.toString()));
    child.stderr.on('data', (chunk: Buffer) => (stderr += chunk.toString()));
    child.on('close', (code) => {
      clearInterval(sample);
      if (code !== 0) return reject(new Error(`retrieve exited ${code}: ${stderr}`));
      const lines = stdout.trim().split('\n');
      resolve({
        result: pacsRetrieveResultSchema.parse(JSON.parse(lines[lines.length - 1])),
        peak,
      });
    });
  });
}

function addConnection(project: string, orthanc: Orthanc): Promise<void> {
  return new Promise((resolve, reject) => {
    const child = spawn(process.execPath, [
      BIN,
      'pacs',
      'add',
      'orthanc',
      '--project',
      project,
      '--dimse',
      `${orthanc.aet}@127.0.0.1:${orthanc.dicomPort}`,
      '--our-aet',
      'QATASEG',
      '--our-port',
      '11112',
    ]);
    child.on('close', (code) => (code === 0 ? resolve() : reject(new Error(`add exited ${code}`))));
  });
}

describe.skipIf(!orthancAvailable() || !fs.existsSync('/proc/self/status'))(
  'DIMSE retrieve memory and a peer that dies',
  () => {
    let orthanc: Orthanc;

    beforeAll(async () => {
      orthanc = await startOrthanc();
      orthanc.store(series(SMALL, 30));
      orthanc.store(series(BIG, 300));
    }, 300_000);

    afterAll(async () => {
      await orthanc?.stop();
    });

    it('C-GET of 300 instances peaks within a margin of the peak for 30', async () => {
      const smallProject = tempDir('qataseg-dimse-mem-small-');
      const bigProject = tempDir('qataseg-dimse-mem-big-');
      await addConnection(smallProject, orthanc);
      await addConnection(bigProject, orthanc);
      const small = await retrieveMeasured(smallProject, SMALL);
      const big = await retrieveMeasured(bigProject, BIG);
      expect(small.result).toMatchObject({ listed: 30, fetched: 30, failed: [] });
      expect(big.result).toMatchObject({ listed: 300, fetched: 300, failed: [] });
      expect(big.result.import?.refresh.added).toBe(300);
      const seriesBytes = 300 * SIZE * SIZE * 2;
      const growth = big.peak - small.peak;
      console.log(
        `peak RSS: 30 instances ${(small.peak / MIB).toFixed(1)} MiB, 300 instances ${(big.peak / MIB).toFixed(1)} MiB (series ${(seriesBytes / MIB).toFixed(1)} MiB): growth ${(growth / MIB).toFixed(1)} MiB`,
      );
      expect(small.peak).toBeGreaterThan(0);
      // Holding the series would grow the peak by its size at least; the import's own growth
      // with the count of images (about 18 MiB measured) is well under a third of it.
      expect(growth).toBeLessThan(seriesBytes / 3);
    }, 600_000);

    it('cancel keeps whole files only; the resumed run, cut by Orthanc dying, imports what came and lists the rest', async () => {
      const projectDir = tempDir('qataseg-dimse-killed-');
      const service = createService({ transport: 'http', projectDir });
      try {
        await service.invoke('pacs.add', {
          name: 'dying',
          kind: 'dimse',
          host: '127.0.0.1',
          port: orthanc.dicomPort,
          aet: orthanc.aet,
          ourAet: 'QATASEG',
          ourPort: await freePort(),
        });
        const store = service.project();
        const folder = path.join(retrieveFolder(store, 'dying'), BIG, `${BIG}.1`);
        const dcmFiles = () =>
          fs.existsSync(folder)
            ? fs.readdirSync(folder).filter((name) => name.endsWith('.dcm'))
            : [];
        // Cancelled once 10 have come: only whole files stay, nothing is imported.
        const controller = new AbortController();
        const connection = (await service.invoke('pacs.list'))[0];
        await expect(
          dimseRetrieveIntoProject(
            store,
            connection,
            { name: 'dying', studyInstanceUid: BIG },
            {
              signal: controller.signal,
              progress: (update: { done?: number }) => {
                if ((update.done ?? 0) >= 10) controller.abort();
              },
            },
          ),
        ).rejects.toBeInstanceOf(PacsCancelledError);
        await new Promise((resolve) => setTimeout(resolve, 500));
        const kept = dcmFiles().length;
        expect(kept).toBeGreaterThanOrEqual(10);
        expect(fs.readdirSync(folder).filter((name) => name.endsWith('.part'))).toEqual([]);
        expect((await service.invoke('project.state')).imageCount).toBe(0);

        // The next run asks only for the rest (instance level), and Orthanc dies during it.
        const job = await service.invoke('pacs.retrieve', { name: 'dying', studyInstanceUid: BIG });
        const ended = service.jobs.wait(job.id);
        while (dcmFiles().length < kept + 20)
          await new Promise((resolve) => setTimeout(resolve, 10));
        orthanc.kill();
        const result = pacsRetrieveResultSchema.parse(await ended);
        expect(result.alreadyHeld).toBe(kept);
        expect(result.fetched).toBeGreaterThanOrEqual(20);
        expect(result.fetched).toBeLessThan(300 - kept);
        expect(result.failed).toHaveLength(300 - kept - result.fetched);
        expect(result.failed[0].reason).toMatch(
          /PACS dying \(ORTHANCTEST@127\.0\.0\.1:\d+\): C-GET of study .* failed: (the connection broke|the server ended the association)/,
        );
        expect(result.import?.refresh.added).toBe(kept + result.fetched);
        expect(fs.readdirSync(folder).filter((name) => name.endsWith('.part'))).toEqual([]);
      } finally {
        service.close();
      }
    }, 300_000);
  },
);
