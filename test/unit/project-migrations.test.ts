import { afterEach, describe, expect, it } from 'vitest';
import path from 'node:path';
import {
  lesionEntropyUncertainty,
  meanBinaryEntropy,
  predictionUncertainty,
} from '../../src/core/math/uncertainty';
import { encodeGray8 } from '../../src/core/project/mask-png';
import { migrations } from '../../src/core/project/migrations';
import {
  DATABASE_FILE,
  migrate,
  openDatabase,
  ProjectStore,
  schemaVersion,
  type Db,
} from '../../src/core/project/store';
import { tempDir } from './project-fixtures';

const open: Db[] = [];
afterEach(() => {
  for (const db of open.splice(0)) if (db.open) db.close();
});

function freshDb(): { db: Db; dir: string } {
  const dir = tempDir('migrate');
  const db = openDatabase(path.join(dir, DATABASE_FILE));
  open.push(db);
  return { db, dir };
}

function tables(db: Db): string[] {
  return (
    db.prepare("SELECT name FROM sqlite_master WHERE type = 'table' ORDER BY name").all() as {
      name: string;
    }[]
  ).map((row) => row.name);
}

describe('migrations', () => {
  it('bring an empty file to the latest version with every table', () => {
    const { db } = freshDb();
    migrate(db);
    expect(schemaVersion(db)).toBe(migrations.length);
    expect(tables(db)).toEqual(
      expect.arrayContaining(['meta', 'datasets', 'images', 'mask_revisions', 'prediction_stats']),
    );
    expect(db.pragma('integrity_check', { simple: true })).toBe('ok');
    expect(db.pragma('foreign_key_check')).toEqual([]);
  });

  it.each(migrations.map((_, version) => version).slice(1))(
    'upgrade a project of version %i and keep its data',
    (version) => {
      const { db, dir } = freshDb();
      migrate(db, version);
      expect(schemaVersion(db)).toBe(version);
      db.prepare('INSERT INTO meta (key, value) VALUES (?, ?)').run('name', `v${version}`);
      db.close();
      const store = ProjectStore.open(dir);
      expect(schemaVersion(store.db)).toBe(migrations.length);
      expect(store.getMeta('name')).toBe(`v${version}`);
      expect(store.db.pragma('integrity_check', { simple: true })).toBe('ok');
      store.close();
    },
  );

  it('version 3 backfills the natural sort key of existing images', () => {
    const { db, dir } = freshDb();
    migrate(db, 2);
    db.prepare(
      "INSERT INTO datasets (root, layout, created_at, imported_at) VALUES ('/r', 'v1', 'now', 'now')",
    ).run();
    for (const name of ['covid_10.png', 'covid_9.png']) {
      db.prepare(
        `INSERT INTO images (dataset_id, rel_path, name, width, height, bit_depth, channels, format,
           file_size, sha256, split, created_at, updated_at)
         VALUES (1, ?, ?, 1, 1, 8, 1, 'png', 1, 'h', 'train', 'now', 'now')`,
      ).run(name, name);
    }
    db.close();
    const store = ProjectStore.open(dir);
    const names = store.db.prepare('SELECT name FROM images ORDER BY name_key').all() as {
      name: string;
    }[];
    expect(names.map((row) => row.name)).toEqual(['covid_9.png', 'covid_10.png']);
    store.close();
  });

  it('version 7 recomputes stored uncertainty over the predicted lesion from each prediction PNG (kept by version 8)', async () => {
    const { db, dir } = freshDb();
    migrate(db, 6);
    db.prepare(
      "INSERT INTO datasets (root, layout, created_at, imported_at) VALUES ('/r', 'v1', 'now', 'now')",
    ).run();
    db.prepare(
      `INSERT INTO images (dataset_id, rel_path, name, width, height, bit_depth, channels, format,
         file_size, sha256, split, created_at, updated_at)
       VALUES (1, 'a.png', 'a.png', 8, 4, 8, 1, 'png', 1, 'h', 'train', 'now', 'now')`,
    ).run();
    // Background at p = 0.3 everywhere, a lesion of 8 pixels at p = 0.9.
    const map = new Uint8Array(32).fill(77);
    map.fill(230, 0, 8);
    for (const version of ['v1', 'v2']) {
      const revision = db
        .prepare(
          `INSERT INTO mask_revisions (image_id, source, model_version, author, created_at, png,
             width, height, foreground) VALUES (1, 'prediction', ?, 'model', 'now', ?, 8, 4, 8)`,
        )
        .run(version, await encodeGray8(map, 8, 4)).lastInsertRowid;
      db.prepare(
        `INSERT INTO prediction_stats (image_id, model_version, revision_id, predicted_area,
           uncertainty, dice) VALUES (1, ?, ?, 0.25, ?, NULL)`,
      ).run(version, revision, meanBinaryEntropy(map));
    }
    db.close();
    const store = ProjectStore.open(dir);
    const stored = store.db
      .prepare('SELECT uncertainty FROM prediction_stats ORDER BY model_version')
      .all() as { uncertainty: number }[];
    const h = (p: number) => -(p * Math.log2(p) + (1 - p) * Math.log2(1 - p));
    expect(lesionEntropyUncertainty(map)).toBeCloseTo(h(230 / 255), 12);
    expect(stored.map((row) => row.uncertainty)).toEqual([
      predictionUncertainty(map),
      predictionUncertainty(map),
    ]);
    expect(meanBinaryEntropy(map)).toBeGreaterThan(stored[0].uncertainty + 0.3);
    store.close();
  });

  it('version 8 recomputes stored uncertainty so a nearly predicted, missed lesion ranks high', async () => {
    const { db, dir } = freshDb();
    migrate(db, 7);
    db.prepare(
      "INSERT INTO datasets (root, layout, created_at, imported_at) VALUES ('/r', 'v1', 'now', 'now')",
    ).run();
    db.prepare(
      `INSERT INTO images (dataset_id, rel_path, name, width, height, bit_depth, channels, format,
         file_size, sha256, split, created_at, updated_at)
       VALUES (1, 'a.png', 'a.png', 8, 4, 8, 1, 'png', 1, 'h', 'train', 'now', 'now')`,
    ).run();
    // Background at p = 0.04, a lesion of 8 pixels at p = 0.47: nothing reaches 0.5, so the score
    // of version 7 (entropy over the predicted lesion) stored 0.
    const map = new Uint8Array(32).fill(10);
    map.fill(120, 0, 8);
    const revision = db
      .prepare(
        `INSERT INTO mask_revisions (image_id, source, model_version, author, created_at, png,
           width, height, foreground) VALUES (1, 'prediction', 'v1', 'model', 'now', ?, 8, 4, 0)`,
      )
      .run(await encodeGray8(map, 8, 4)).lastInsertRowid;
    db.prepare(
      `INSERT INTO prediction_stats (image_id, model_version, revision_id, predicted_area,
         uncertainty, dice) VALUES (1, 'v1', ?, 0, ?, NULL)`,
    ).run(revision, lesionEntropyUncertainty(map));
    db.close();
    const store = ProjectStore.open(dir);
    const stored = store.db.prepare('SELECT uncertainty FROM prediction_stats').get() as {
      uncertainty: number;
    };
    expect(lesionEntropyUncertainty(map)).toBe(0);
    const h = (p: number) => -(p * Math.log2(p) + (1 - p) * Math.log2(1 - p));
    expect(stored.uncertainty).toBeCloseTo(h(120 / 255), 12);
    store.close();
  });

  it('refuses a project written by a newer build', () => {
    const { db } = freshDb();
    migrate(db);
    db.pragma(`user_version = ${migrations.length + 1}`);
    expect(() => migrate(db)).toThrow(/newer than this build/);
  });

  it('opens in WAL with full sync and foreign keys on', () => {
    const { dir } = freshDb();
    const store = ProjectStore.open(dir);
    expect(store.db.pragma('journal_mode', { simple: true })).toBe('wal');
    expect(store.db.pragma('synchronous', { simple: true })).toBe(2);
    expect(store.db.pragma('foreign_keys', { simple: true })).toBe(1);
    store.close();
  });

  it('enforces the enumerations of the schema', () => {
    const { db } = freshDb();
    migrate(db);
    db.prepare(
      "INSERT INTO datasets (root, layout, created_at, imported_at) VALUES ('/r', 'v1', 'now', 'now')",
    ).run();
    const insert = (split: string) =>
      db
        .prepare(
          `INSERT INTO images (dataset_id, rel_path, name, width, height, bit_depth, channels, format,
             file_size, sha256, split, created_at, updated_at)
           VALUES (1, ?, 'a.png', 1, 1, 8, 1, 'png', 1, 'h', ?, 'now', 'now')`,
        )
        .run(`${split}.png`, split);
    expect(() => insert('train')).not.toThrow();
    expect(() => insert('validation')).toThrow(/CHECK/);
    // A prediction must name its model version; a correction must not.
    const revision = (source: string, model: string | null) =>
      db
        .prepare(
          `INSERT INTO mask_revisions (image_id, source, model_version, author, created_at, png,
             width, height, foreground) VALUES (1, ?, ?, 'a', 'now', x'00', 1, 1, 0)`,
        )
        .run(source, model);
    expect(() => revision('prediction', null)).toThrow(/CHECK/);
    expect(() => revision('correction', 'v1')).toThrow(/CHECK/);
    expect(() => revision('prediction', 'v1')).not.toThrow();
  });
});
