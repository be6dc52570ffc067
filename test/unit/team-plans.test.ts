/**
 * Reading plans: balanced assignment (deterministic, loads within 1), the selection (split, all),
 * progress per reader, close, the role of readers, and `qataseg plan create|list` on a real
 * project folder.
 */
import { execFileSync } from 'node:child_process';
import path from 'node:path';
import { afterEach, describe, expect, it } from 'vitest';
import { createService, type Service } from '../../src/core/service';
import { addReading } from '../../src/core/project/readings';
import { balancedAssignment } from '../../src/core/team/plans';
import { createUser } from '../../src/core/team/users';
import type { PlanDetail, PlanSummary } from '../../src/shared/contract-team-plans';
import { projectWithImages, rectMask } from './project-fixtures';

const bin = path.resolve(import.meta.dirname, '../../bin/qataseg.mjs');
const services: Service[] = [];
afterEach(() => {
  for (const service of services.splice(0)) service.close();
});

/** A seeded sequence (mulberry32), so the random cases are the same every run. */
function seeded(seed: number) {
  let a = seed;
  return () => {
    a = (a + 0x6d2b79f5) | 0;
    let t = Math.imul(a ^ (a >>> 15), 1 | a);
    t = (t + Math.imul(t ^ (t >>> 7), 61 | t)) ^ t;
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}

async function teamProject(names: { name: string; split: 'train' | 'test' }[]) {
  const fixture = await projectWithImages(
    names.map((n) => ({ ...n, gt: rectMask(32, 24, 1, 1, 5, 5) })),
  );
  const users = [];
  for (const [name, role] of [
    ['ana', 'reader'],
    ['bo', 'reader'],
    ['cy', 'reader'],
    ['dee', 'adjudicator'],
  ] as const) {
    users.push((await createUser(fixture.store.db, name, role)).user);
  }
  fixture.store.close();
  const service = createService({ transport: 'http', projectDir: fixture.dir });
  services.push(service);
  return { ...fixture, service, users };
}

describe('balanced assignment', () => {
  it('gives each image K distinct readers, loads within 1, the same every time', () => {
    const random = seeded(23);
    for (let trial = 0; trial < 300; trial++) {
      const readers = Array.from({ length: 1 + Math.floor(random() * 8) }, (_, i) => 10 + i * 3);
      const images = Array.from({ length: Math.floor(random() * 40) }, (_, i) => i + 1);
      const k = 1 + Math.floor(random() * readers.length);
      const assignment = balancedAssignment(images, readers, k);
      expect(balancedAssignment(images, readers, k)).toEqual(assignment);
      const load = new Map(readers.map((r) => [r, 0]));
      for (const image of images) {
        const chosen = assignment.get(image)!;
        expect(new Set(chosen).size).toBe(k);
        for (const reader of chosen) load.set(reader, load.get(reader)! + 1);
      }
      const loads = [...load.values()];
      expect(Math.max(...loads) - Math.min(...loads)).toBeLessThanOrEqual(1);
      expect(loads.reduce((a, b) => a + b, 0)).toBe(images.length * k);
    }
  });

  it('spreads pairs across the team rather than repeating one pair', () => {
    const assignment = balancedAssignment([1, 2, 3, 4, 5, 6], [1, 2, 3], 2);
    const pairs = new Set([...assignment.values()].map((pair) => pair.join('+')));
    expect(pairs).toEqual(new Set(['1+2', '1+3', '2+3']));
  });

  it('refuses more readers per image than the team has', () => {
    expect(() => balancedAssignment([1], [1, 2], 3)).toThrow(/3 readers per image.*2 readers/);
  });
});

describe('reading plans', () => {
  it('creates a plan of a split, K per image, counts reads per reader, closes', async () => {
    const { service, ids, users } = await teamProject([
      { name: 'a.png', split: 'test' },
      { name: 'b.png', split: 'test' },
      { name: 'c.png', split: 'test' },
      { name: 'd.png', split: 'train' },
    ]);
    const plan = await service.invoke('plans.create', {
      name: 'test split',
      selection: { kind: 'split', split: 'test' },
      readersPerImage: 2,
      blind: true,
      revealAfter: true,
    });
    expect(plan).toMatchObject({
      name: 'test split',
      readersPerImage: 2,
      blind: true,
      revealAfter: true,
      anonymousReaders: false,
      disagreementThreshold: 0.7,
      status: 'active',
      createdBy: 'owner',
      images: 3,
      assignments: 6,
      read: 0,
    });
    expect(plan.imageIds).toEqual(ids.slice(0, 3));
    // Adjudicators do not read: only the three readers have assignments, two images each.
    expect(plan.readers.map((r) => [r.name, r.assigned, r.read])).toEqual([
      ['ana', 2, 0],
      ['bo', 2, 0],
      ['cy', 2, 0],
    ]);

    const db = service.project().db;
    const assigned = db
      .prepare('SELECT image_id AS imageId FROM plan_assignments WHERE plan_id = ? AND user_id = ?')
      .all(plan.id, users[0].id) as { imageId: number }[];
    await addReading(db, {
      planId: plan.id,
      imageId: assigned[0].imageId,
      userId: users[0].id,
      mask: new Uint8Array(32 * 24),
      width: 32,
      height: 24,
    });
    const progress = await service.invoke('plans.get', { id: plan.id });
    expect(progress.read).toBe(1);
    expect(progress.readers.find((r) => r.name === 'ana')).toMatchObject({ assigned: 2, read: 1 });

    const all = await service.invoke('plans.create', {});
    expect(all).toMatchObject({ readersPerImage: null, blind: true, images: 4, assignments: 12 });
    expect((await service.invoke('plans.list')).map((p) => p.id)).toEqual([all.id, plan.id]);

    const closed = await service.invoke('plans.close', { id: plan.id });
    expect(closed.status).toBe('closed');
    const audit = db.prepare('SELECT action, user_name AS who FROM audit_log ORDER BY id').all();
    expect(audit).toEqual([
      { action: 'plan.create', who: 'owner' },
      { action: 'plan.create', who: 'owner' },
      { action: 'plan.close', who: 'owner' },
    ]);
  });

  it('refuses a plan without readers, an empty selection, too many readers per image', async () => {
    const { service, users } = await teamProject([{ name: 'a.png', split: 'train' }]);
    await expect(
      service.invoke('plans.create', { selection: { kind: 'split', split: 'test' } }),
    ).rejects.toThrow(/no images/);
    await expect(service.invoke('plans.create', { readersPerImage: 4 })).rejects.toThrow(
      /4 readers per image, but the team has 3 readers/,
    );
    service
      .project()
      .db.prepare('UPDATE users SET disabled_at = ? WHERE id IN (?, ?, ?)')
      .run(new Date().toISOString(), users[0].id, users[1].id, users[2].id);
    await expect(service.invoke('plans.create', {})).rejects.toMatchObject({ code: 'conflict' });
  });
});

describe('qataseg plan', () => {
  it('creates and lists plans on a project folder', async () => {
    const { service, dir } = await teamProject([
      { name: 'a.png', split: 'test' },
      { name: 'b.png', split: 'test' },
      { name: 'c.png', split: 'train' },
    ]);
    service.close();
    services.splice(0);
    const run = (...args: string[]) =>
      execFileSync(process.execPath, [bin, 'plan', ...args, '--project', dir], {
        encoding: 'utf8',
      });
    const created = JSON.parse(
      run('create', '--readers', '2', '--split', 'test', '--blind', '--reveal-after', '--json'),
    ) as PlanDetail;
    expect(created).toMatchObject({ images: 2, assignments: 4, blind: true, revealAfter: true });
    const open = run('create', '--readers', 'all');
    expect(open).toMatch(/plan 2 "Plan 2" \(active\): 3 images, all readers, open; 0 of 9 reads/);
    expect(open).toMatch(/ana: 0 of 3 read/);
    const listed = JSON.parse(run('list', '--json')) as PlanSummary[];
    expect(listed.map((p) => [p.id, p.blind, p.readersPerImage])).toEqual([
      [2, false, null],
      [1, true, 2],
    ]);
    expect(() => run('create', '--readers', '5')).toThrow(/5 readers per image/);
  }, 300_000);
});
