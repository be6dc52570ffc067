/**
 * A plan's agreement figures and consensus through the Service (team.agreement, consensus.run)
 * and the CLI (qataseg agreement, qataseg consensus), on readings saved through addReading.
 * The figures are worked out by hand from test/unit/team-fixtures.ts.
 */
import { execFile } from 'node:child_process';
import fs from 'node:fs';
import path from 'node:path';
import { promisify } from 'node:util';
import { describe, expect, it } from 'vitest';
import { staple } from '../../src/core/math/staple';
import { consensusMask, getConsensus } from '../../src/core/project/consensus';
import { addReading } from '../../src/core/project/readings';
import { ProjectStore } from '../../src/core/project/store';
import { createService } from '../../src/core/service';
import { consensusRunResultSchema } from '../../src/shared/agreement-schemas';
import { tempDir } from './project-fixtures';
import { empty, H, projectWithPlan, square, W } from './team-fixtures';

const bin = path.resolve(import.meta.dirname, '../../bin/qataseg.mjs');
const execFileAsync = promisify(execFile);

async function qataseg(...args: string[]) {
  try {
    const { stdout } = await execFileAsync(process.execPath, [bin, ...args], { encoding: 'utf8' });
    return { code: 0, stdout };
  } catch (error) {
    const failed = error as { code: number; stdout: string; stderr: string };
    return { code: failed.code, stdout: failed.stdout + failed.stderr };
  }
}

async function service(dir: string) {
  return createService({ transport: 'http', projectDir: dir });
}

describe('team.agreement', () => {
  it('gives pairwise Dice, the matrix, the disputes and Fleiss kappa of the plan', async () => {
    const project = await projectWithPlan();
    project.store.close();
    const svc = await service(project.dir);
    try {
      const report = await svc.invoke('team.agreement', { method: 'vote' });
      expect(report.plan.id).toBe(project.planId);
      expect(report.readers.map((r) => r.label)).toEqual(['ana', 'bo', 'cy']);
      const [one, two, three, four] = report.images;
      expect(one.pairs.map((p) => p.dice)).toEqual([2 / 3, 1, 2 / 3]);
      expect(one.meanDice).toBeCloseTo(7 / 9, 12);
      expect(one.disputed).toBe(false);
      expect(two).toMatchObject({ meanDice: 1, bothEmptyPairs: 3, negative: 3, disputed: false });
      expect(three).toMatchObject({ positive: 1, negative: 2, split: true, disputed: true });
      expect(three.meanDice).toBeCloseTo(1 / 3, 12);
      expect(four).toMatchObject({ read: 1, assigned: 3, meanDice: null, disputed: false });
      // ana-bo: 2/3, 1, 0; ana-cy: 1, 1, 0; bo-cy: 2/3, 1, 1 (both empty on img-3).
      expect(report.matrix[0][1]).toBeCloseTo(5 / 9, 12);
      expect(report.matrix[1][0]).toBeCloseTo(5 / 9, 12);
      expect(report.matrix[0][2]).toBeCloseTo(2 / 3, 12);
      expect(report.matrix[1][2]).toBeCloseTo(8 / 9, 12);
      expect(report.matrix[0][0]).toBeNull();
      expect(report.pairImages[0][1]).toBe(3);
      // Images read by all three: calls [0,3], [3,0], [2,1]: P̄ = 7/9, Pe = 41/81, κ = 0.55.
      expect(report.kappa.kind).toBe('fleiss');
      expect(report.kappa.images).toBe(3);
      expect(report.kappa.value).toBeCloseTo(0.55, 12);
      expect(report.summary).toMatchObject({ images: 4, compared: 3, disputed: 1 });
      // The vote of img-1 is the square (ana and cy), of img-2 and img-3 empty.
      const [ana, bo] = report.readers;
      expect(ana.dice).toBeCloseTo(2 / 3, 12);
      expect(ana.sensitivity).toBe(1);
      expect(ana.specificity).toBeCloseTo((3 * W * H - 200) / (3 * W * H - 100), 12);
      expect(bo.sensitivity).toBe(0.5);
      expect(bo.dice).toBeCloseTo((2 / 3 + 1 + 1) / 3, 12);
      expect(ana).toMatchObject({ read: 4, assigned: 4, positive: 3, consensusImages: 3 });
    } finally {
      svc.close();
    }
  });

  it('an anonymous plan names its readers Reader 1..n', async () => {
    const project = await projectWithPlan({ anonymous: true });
    project.store.close();
    const svc = await service(project.dir);
    try {
      const report = await svc.invoke('team.agreement', {});
      expect(report.readers.map((r) => [r.label, r.userId])).toEqual([
        ['Reader 1', null],
        ['Reader 2', null],
        ['Reader 3', null],
      ]);
      expect(JSON.stringify(report)).not.toMatch(/"(ana|bo|cy)"/);
    } finally {
      svc.close();
    }
  });

  it('refuses a plan that does not exist', async () => {
    const project = await projectWithPlan();
    project.store.close();
    const svc = await service(project.dir);
    try {
      await expect(svc.invoke('team.agreement', { planId: 99 })).rejects.toThrow(
        /no reading plan 99/,
      );
    } finally {
      svc.close();
    }
  });
});

describe('consensus.run', () => {
  it('stores each image consensus; a later reading makes it stale for the figures', async () => {
    const project = await projectWithPlan();
    project.store.close();
    const svc = await service(project.dir);
    try {
      const job = await svc.invoke('consensus.run', { method: 'vote' });
      const result = consensusRunResultSchema.parse(await svc.jobs.wait(job.id));
      expect(result).toMatchObject({ stored: 3, allEmpty: 1 });
      expect(result.skipped).toEqual([
        {
          imageId: project.ids[3],
          name: 'img-4.png',
          reason: 'one reading yet (a consensus needs two)',
        },
      ]);
      const db = svc.project().db;
      expect(await consensusMask(db, project.planId, project.ids[0], 'vote')).toEqual(square());
      expect(await consensusMask(db, project.planId, project.ids[2], 'vote')).toEqual(empty());
      expect(await consensusMask(db, project.planId, project.ids[3], 'vote')).toBeNull();
      expect((await svc.invoke('team.agreement', { method: 'vote' })).summary.consensusStored).toBe(
        3,
      );

      await addReading(db, {
        planId: project.planId,
        imageId: project.ids[0],
        userId: project.bo.id,
        mask: square(),
        width: W,
        height: H,
      });
      const after = await svc.invoke('team.agreement', { method: 'vote' });
      expect(after.summary.consensusStored).toBe(2);
      expect(after.images[0].meanDice).toBe(1);

      const stapleJob = await svc.invoke('consensus.run', { method: 'staple' });
      await svc.jobs.wait(stapleJob.id);
      const stored = await getConsensus(db, project.planId, project.ids[2], 'staple');
      const expected = staple([square(), empty(), empty()]);
      expect(stored!.readers.map((r) => r.sensitivity)).toEqual(expected.sensitivity);
      expect(Array.from(stored!.probability)).toEqual(
        Array.from(expected.probability, (p) => Math.round(p * 255)),
      );
    } finally {
      svc.close();
    }
  });
});

describe('qataseg agreement and consensus', () => {
  it('prints the report as JSON, writes the CSV, and stores a consensus', async () => {
    const project = await projectWithPlan();
    project.store.close();
    const csv = path.join(tempDir('agreement-csv'), 'agreement.csv');
    const run = await qataseg('agreement', '--project', project.dir, '--json', '--csv', csv);
    expect(run.code, run.stdout).toBe(0);
    const report = JSON.parse(run.stdout) as { kappa: { value: number }; matrix: number[][] };
    expect(report.kappa.value).toBeCloseTo(0.55, 12);
    expect(report.matrix[1][2]).toBeCloseTo(8 / 9, 12);
    const lines = fs.readFileSync(csv, 'utf8').split('\r\n');
    expect(lines[0]).toBe('scope,image,reader_a,reader_b,figure,value,count');
    expect(lines).toContain('plan,,,,fleiss_kappa,0.55,3');
    expect(lines).toContain('image-pair,img-2.png,ana,bo,dice_both_empty,1,1');
    expect(lines.some((line) => line.startsWith('pair,,bo,cy,mean_dice,0.888'))).toBe(true);

    const text = await qataseg('agreement', '--project', project.dir);
    expect(text.stdout).toMatch(/Disputed images:\n {2}img-3\.png/);

    const consensus = await qataseg(
      'consensus',
      '--project',
      project.dir,
      '--method',
      'vote',
      '--json',
    );
    expect(consensus.code, consensus.stdout).toBe(0);
    const last = JSON.parse(consensus.stdout.trim().split('\n').pop()!) as { stored: number };
    expect(last.stored).toBe(3);
    const store = ProjectStore.open(project.dir);
    try {
      expect(await consensusMask(store.db, project.planId, project.ids[0], 'vote')).toEqual(
        square(),
      );
    } finally {
      store.close();
    }

    const bad = await qataseg('consensus', '--project', project.dir, '--method', 'mean');
    expect(bad.code).toBe(2);
    const none = await qataseg('agreement', '--project', project.dir, '--plan', '42');
    expect(none.code).toBe(2);
    expect(none.stdout).toMatch(/no reading plan 42/);
  });
});
