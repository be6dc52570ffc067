/**
 * PACS retrieval benchmark (issue 22): a real Orthanc (test/unit/pacs-orthanc.ts) holding one
 * series of N CR instances (pydicom, stored with storescu); in one run, alternating rounds of
 *  - ours: `retrieveIntoProject` (QIDO-RS listing, WADO-RS per instance, 4 at a time, written to
 *    the project folder) into a fresh project, the import after it timed apart;
 *  - ours over DIMSE: `dimseRetrieveIntoProject` (C-FIND listing, one series-level C-GET whose
 *    instances stream to the project folder) into another fresh project, timed the same way;
 *  - dcmtk's getscu (C-GET of the same series into a folder): the DIMSE reference;
 *  - Orthanc's own REST download of the same series (`/instances/{id}/file`, 4 at a time).
 * Prints instances/s of both and their ratio (best of the rounds; the machine is shared).
 *
 * `npx tsx bench/pacs-retrieve.ts [count] [rounds]` (default 200 instances of 256x256, 2 rounds).
 */
import { execFileSync } from 'node:child_process';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { performance } from 'node:perf_hooks';
import { ProjectStore } from '../src/core/project/store';
import { addConnection, FileSecretStore, getConnection } from '../src/core/pacs/connections';
import { dicomwebSession } from '../src/core/pacs/dicomweb';
import { retrieveIntoProject } from '../src/core/pacs/retrieve';
import { dimseRetrieveIntoProject } from '../src/core/pacs/dimse-retrieve';
import type { JobReporter } from '../src/core/job-reporter';
import { gradient, writeDicom } from '../test/unit/dicom-fixtures';
import { startOrthanc } from '../test/unit/pacs-orthanc';

const count = Number(process.argv[2] ?? 200);
const rounds = Number(process.argv[3] ?? 2);
const SIZE = 256;
const STUDY = '1.2.826.0.1.3680043.8.498.900';
const SERIES = `${STUDY}.1`;

async function parallel<T>(items: T[], limit: number, task: (item: T) => Promise<void>) {
  let next = 0;
  await Promise.all(
    Array.from({ length: limit }, async () => {
      while (next < items.length) await task(items[next++]);
    }),
  );
}

async function main() {
  const orthanc = await startOrthanc();
  const work = fs.mkdtempSync(path.join(os.tmpdir(), 'qataseg-bench-pacs-'));
  try {
    const files = writeDicom(
      path.join(work, 'src'),
      Array.from({ length: count }, (_, n) => ({
        name: `i${n}.dcm`,
        rows: SIZE,
        columns: SIZE,
        values: gradient(SIZE, SIZE, 4095, n),
        bitsAllocated: 16 as const,
        bitsStored: 12,
        sopInstance: `${SERIES}.${n + 1}`,
        study: STUDY,
        series: SERIES,
      })),
    );
    for (let i = 0; i < files.length; i += 100) orthanc.store(files.slice(i, i + 100));
    const instanceIds = await orthanc.rest<string[]>('/instances');
    const ours: number[] = [];
    const importRates: number[] = [];
    const theirs: number[] = [];
    const overDimse: number[] = [];
    const byGetscu: number[] = [];
    /** A reporter noting when the retrieve ends and the import begins. */
    const timed = () => {
      const times = { started: performance.now(), retrievedAt: 0 };
      const reporter: JobReporter = {
        signal: new AbortController().signal,
        progress: (update) => {
          if (update.phase === 'scanning') times.retrievedAt = performance.now();
        },
      };
      return { times, reporter };
    };
    for (let round = 0; round < rounds; round++) {
      const dimseStore = ProjectStore.open(path.join(work, `project-dimse-${round}`));
      const dimseSecrets = new FileSecretStore(dimseStore.dir);
      addConnection(dimseStore, dimseSecrets, {
        name: 'bench-dimse',
        kind: 'dimse',
        host: '127.0.0.1',
        port: orthanc.dicomPort,
        aet: orthanc.aet,
        ourAet: 'QATASEG',
        ourPort: 11112,
      });
      const dimseRun = timed();
      const dimseResult = await dimseRetrieveIntoProject(
        dimseStore,
        getConnection(dimseStore, dimseSecrets, 'bench-dimse'),
        { name: 'bench-dimse', studyInstanceUid: STUDY },
        dimseRun.reporter,
      );
      dimseStore.close();
      if (dimseResult.fetched !== count)
        throw new Error(`C-GET retrieved ${dimseResult.fetched} of ${count}`);
      overDimse.push(count / ((dimseRun.times.retrievedAt - dimseRun.times.started) / 1000));

      const getscuOut = path.join(work, `getscu-${round}`);
      fs.mkdirSync(getscuOut);
      const getscuStarted = performance.now();
      execFileSync('getscu', [
        '-S',
        '-aet',
        'QATASEG',
        '-aec',
        orthanc.aet,
        '-k',
        'QueryRetrieveLevel=SERIES',
        '-k',
        `StudyInstanceUID=${STUDY}`,
        '-k',
        `SeriesInstanceUID=${SERIES}`,
        '-od',
        getscuOut,
        '127.0.0.1',
        String(orthanc.dicomPort),
      ]);
      if (fs.readdirSync(getscuOut).length !== count) throw new Error('getscu missed instances');
      byGetscu.push(count / ((performance.now() - getscuStarted) / 1000));

      const store = ProjectStore.open(path.join(work, `project-${round}`));
      const secrets = new FileSecretStore(store.dir);
      addConnection(store, secrets, { name: 'bench', kind: 'dicomweb', url: orthanc.dicomweb });
      const session = dicomwebSession(getConnection(store, secrets, 'bench'), null);
      let retrievedAt = 0;
      const started = performance.now();
      const result = await retrieveIntoProject(
        store,
        session,
        { name: 'bench', studyInstanceUid: STUDY },
        {
          signal: new AbortController().signal,
          progress: (update) => {
            if (update.phase === 'scanning') retrievedAt = performance.now();
          },
        },
      );
      const ended = performance.now();
      store.close();
      if (result.fetched !== count) throw new Error(`retrieved ${result.fetched} of ${count}`);
      ours.push(count / ((retrievedAt - started) / 1000));
      importRates.push(count / ((ended - retrievedAt) / 1000));

      const out = path.join(work, `rest-${round}`);
      fs.mkdirSync(out);
      const restStarted = performance.now();
      await parallel(instanceIds, 4, async (id) => {
        fs.writeFileSync(
          path.join(out, `${id}.dcm`),
          await orthanc.restBytes(`/instances/${id}/file`),
        );
      });
      theirs.push(count / ((performance.now() - restStarted) / 1000));
    }
    const best = (values: number[]) => Math.max(...values);
    const line = (label: string, value: number) =>
      console.log(`${label.padEnd(44)} ${value.toFixed(1).padStart(8)} instances/s`);
    console.log(
      `PACS retrieval, ${count} CR instances of ${SIZE}x${SIZE}, best of ${rounds} rounds`,
    );
    line('ours: QIDO-RS + WADO-RS (4 in flight)', best(ours));
    line('ours: C-FIND + C-GET (one series request)', best(overDimse));
    line('dcmtk getscu (C-GET of the series)', best(byGetscu));
    line('Orthanc REST /instances/{id}/file (4 in flight)', best(theirs));
    line('ours: the DICOM import after it', best(importRates));
    console.log(`ratio ours/Orthanc REST: ${(best(ours) / best(theirs)).toFixed(2)}`);
    console.log(`ratio C-GET/Orthanc REST: ${(best(overDimse) / best(theirs)).toFixed(2)}`);
    console.log(`ratio C-GET ours/getscu: ${(best(overDimse) / best(byGetscu)).toFixed(2)}`);
  } finally {
    await orthanc.stop();
    fs.rmSync(work, { recursive: true, force: true });
  }
}

void main();
