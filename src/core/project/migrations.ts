/**
 * Numbered schema migrations: index i upgrades version i to i + 1. Never edit a released step;
 * append a new one. Tests apply them from an empty file and from every earlier version.
 */
import type { Database } from 'better-sqlite3';

export type Migration = (db: Database) => void;

export const migrations: Migration[] = [
  // 1: key/value facts about the project (name, dataset root, active model, settings).
  (db) => {
    db.exec(`CREATE TABLE meta (key TEXT PRIMARY KEY, value TEXT NOT NULL) STRICT;`);
  },
];
