/**
 * Numbered schema migrations: index i upgrades version i to i + 1. Never edit a released step;
 * append a new one. Tests apply them from an empty file and from every earlier version.
 */
import type { Database } from 'better-sqlite3';
import { decodeGray8Png } from '../formats/png';
import { lesionEntropyUncertainty, predictionUncertainty } from '../math/uncertainty';
import { naturalSortKey } from './sort-key';

export type Migration = (db: Database) => void;

/**
 * Recomputes every stored prediction's uncertainty with `score` from its probability PNG.
 */
function recomputeUncertainty(db: Database, score: (probabilities: Uint8Array) => number): void {
  const rows = db
    .prepare(
      `SELECT ps.image_id AS imageId, ps.model_version AS modelVersion, r.png
         FROM prediction_stats ps JOIN mask_revisions r ON r.id = ps.revision_id`,
    )
    .iterate() as Iterable<{ imageId: number; modelVersion: string; png: Buffer }>;
  const update = db.prepare(
    'UPDATE prediction_stats SET uncertainty = ? WHERE image_id = ? AND model_version = ?',
  );
  const updates: [number, number, string][] = [];
  for (const row of rows) {
    // Every stored prediction is an 8-bit gray PNG (encodeGray8), which this decodes; one that
    // does not decode keeps its old figure rather than stop the project from opening.
    let decoded: ReturnType<typeof decodeGray8Png> = null;
    try {
      decoded = decodeGray8Png(row.png);
    } catch {
      decoded = null;
    }
    if (decoded) updates.push([score(decoded.data), row.imageId, row.modelVersion]);
  }
  for (const values of updates) update.run(...values);
}

export const migrations: Migration[] = [
  // 1: key/value facts about the project (name, dataset root, active model, settings).
  (db) => {
    db.exec(`CREATE TABLE meta (key TEXT PRIMARY KEY, value TEXT NOT NULL) STRICT;`);
  },
  // 2: datasets, images, mask revisions (ground truth, corrections, predictions) and the
  // per-prediction figures the worklist sorts on.
  (db) => {
    db.exec(`
      CREATE TABLE datasets (
        id INTEGER PRIMARY KEY,
        root TEXT NOT NULL UNIQUE,
        layout TEXT NOT NULL,
        mask_pattern TEXT,
        controls_as_negative INTEGER NOT NULL DEFAULT 0,
        created_at TEXT NOT NULL,
        imported_at TEXT NOT NULL,
        -- JSON of the last import report
        report TEXT
      ) STRICT;

      CREATE TABLE images (
        id INTEGER PRIMARY KEY,
        dataset_id INTEGER NOT NULL REFERENCES datasets(id) ON DELETE CASCADE,
        rel_path TEXT NOT NULL,
        name TEXT NOT NULL,
        width INTEGER NOT NULL,
        height INTEGER NOT NULL,
        bit_depth INTEGER NOT NULL,
        channels INTEGER NOT NULL,
        format TEXT NOT NULL,
        file_size INTEGER NOT NULL,
        sha256 TEXT NOT NULL,
        split TEXT NOT NULL CHECK (split IN ('train', 'test', 'control', 'unassigned')),
        status TEXT NOT NULL DEFAULT 'present' CHECK (status IN ('present', 'missing', 'changed')),
        review_state TEXT NOT NULL DEFAULT 'unreviewed'
          CHECK (review_state IN ('unreviewed', 'accepted', 'corrected', 'flagged', 'negative')),
        comment TEXT NOT NULL DEFAULT '',
        -- the imported ground truth revision now in force (older ones stay as its ancestors)
        ground_truth_id INTEGER REFERENCES mask_revisions(id),
        -- hash of the ground-truth mask file it came from (re-import skips unchanged masks)
        ground_truth_sha256 TEXT,
        -- head of the correction tree: undo moves it to the parent, redo to the newest child,
        -- NULL means "no correction in force" (the label is the ground truth)
        correction_head_id INTEGER REFERENCES mask_revisions(id),
        created_at TEXT NOT NULL,
        updated_at TEXT NOT NULL,
        reviewed_at TEXT,
        UNIQUE (dataset_id, rel_path)
      ) STRICT;
      CREATE INDEX images_name ON images(name, id);
      CREATE INDEX images_split ON images(split, name, id);
      CREATE INDEX images_state ON images(review_state, name, id);

      CREATE TABLE mask_revisions (
        id INTEGER PRIMARY KEY,
        image_id INTEGER NOT NULL REFERENCES images(id) ON DELETE CASCADE,
        source TEXT NOT NULL CHECK (source IN ('ground-truth', 'correction', 'prediction')),
        model_version TEXT,
        author TEXT NOT NULL,
        created_at TEXT NOT NULL,
        parent_id INTEGER REFERENCES mask_revisions(id),
        -- binary masks: 8-bit gray 0/255; predictions: 8-bit probability 0..255
        png BLOB NOT NULL,
        width INTEGER NOT NULL,
        height INTEGER NOT NULL,
        -- foreground pixels (predictions: pixels with probability >= 0.5)
        foreground INTEGER NOT NULL,
        CHECK ((source = 'prediction') = (model_version IS NOT NULL))
      ) STRICT;
      CREATE INDEX mask_revisions_image ON mask_revisions(image_id, source, id);
      CREATE INDEX mask_revisions_parent ON mask_revisions(parent_id, id);

      -- Figures of the newest prediction of each (image, model version), for the worklist.
      CREATE TABLE prediction_stats (
        image_id INTEGER NOT NULL REFERENCES images(id) ON DELETE CASCADE,
        model_version TEXT NOT NULL,
        revision_id INTEGER NOT NULL REFERENCES mask_revisions(id),
        -- fraction of the image predicted foreground (0..1)
        predicted_area REAL NOT NULL,
        -- mean of 1 - |2p - 1| over the image (0 sure, 1 undecided)
        uncertainty REAL NOT NULL,
        -- Dice against the label in force when written (refreshed when the label changes)
        dice REAL,
        PRIMARY KEY (image_id, model_version)
      ) STRICT;
      CREATE INDEX prediction_stats_model ON prediction_stats(model_version, image_id);
    `);
  },
  // 3: natural order of names (covid_2 before covid_10) for the worklist's name sort.
  (db) => {
    db.exec(`ALTER TABLE images ADD COLUMN name_key TEXT NOT NULL DEFAULT ''`);
    const update = db.prepare('UPDATE images SET name_key = ? WHERE id = ?');
    const rows = db.prepare('SELECT id, name FROM images').all() as { id: number; name: string }[];
    for (const row of rows) update.run(naturalSortKey(row.name), row.id);
    db.exec(`
      CREATE INDEX images_name_key ON images(name_key, id);
      CREATE INDEX images_split_key ON images(split, name_key, id);
      CREATE INDEX images_state_key ON images(review_state, name_key, id);
    `);
  },
  // 4: how much each image's prediction changed from the previous model version (active learning,
  // "what changed" sort; written by src/core/ml/active-learning.ts). From this version on,
  // prediction_stats.uncertainty is the mean binary entropy in bits (still 0 sure .. 1 undecided).
  (db) => {
    db.exec(`
      CREATE TABLE prediction_changes (
        image_id INTEGER NOT NULL REFERENCES images(id) ON DELETE CASCADE,
        -- the newer version and the version it was compared with
        model_version TEXT NOT NULL,
        reference_version TEXT NOT NULL,
        -- mean |p_new - p_reference| over the pixels (0..1)
        changed REAL NOT NULL,
        -- 1 - Dice of the two masks thresholded at 0.5
        disagreement REAL NOT NULL,
        PRIMARY KEY (image_id, model_version)
      ) STRICT;
    `);
  },
  // 5: the DICOM tags the worklist and viewer show and a DICOM SEG needs to reference its image;
  // never whole headers (names, birth dates and the rest stay in the source files).
  (db) => {
    db.exec(`
      CREATE TABLE dicom_images (
        image_id INTEGER PRIMARY KEY REFERENCES images(id) ON DELETE CASCADE,
        sop_class_uid TEXT NOT NULL,
        sop_instance_uid TEXT NOT NULL,
        study_instance_uid TEXT NOT NULL,
        series_instance_uid TEXT NOT NULL,
        patient_id TEXT NOT NULL,
        -- ISO date (YYYY-MM-DD) or ''
        study_date TEXT NOT NULL,
        modality TEXT NOT NULL,
        view_position TEXT NOT NULL,
        -- mm between rows and between columns (Pixel Spacing, else Imager Pixel Spacing)
        row_spacing REAL,
        column_spacing REAL
      ) STRICT;
      CREATE INDEX dicom_images_sop ON dicom_images(sop_instance_uid);
      CREATE INDEX dicom_images_patient ON dicom_images(patient_id);
    `);
  },
  // 6: the review state around each correction, so undoing back to the ground truth returns the
  // state the image had before the edits and redo the state the save set (NULL on older rows).
  (db) => {
    db.exec(`
      ALTER TABLE mask_revisions ADD COLUMN review_state_before TEXT;
      ALTER TABLE mask_revisions ADD COLUMN review_state_after TEXT;
    `);
  },
  // 7: prediction_stats.uncertainty becomes the mean binary entropy over the pixels predicted lesion
  // (src/core/math/uncertainty.ts) instead of over the whole image, whose background flattened it;
  // stored figures are recomputed from each prediction's probability PNG.
  (db) => recomputeUncertainty(db, lesionEntropyUncertainty),
  // 8: prediction_stats.uncertainty also sees what the model nearly predicted (relative to the
  // image's background) and weighs doubt by the lesion area at stake (src/core/math/uncertainty.ts),
  // so missed lesions rank high and specks do not top the queue; recomputed from the stored PNGs.
  (db) => recomputeUncertainty(db, predictionUncertainty),
  // 9: named PACS connections (src/core/pacs/connections.ts). No secret is stored here: a
  // password or token lives in the host's SecretStore (the OS keychain, else an owner-only file).
  (db) => {
    db.exec(`
      CREATE TABLE pacs_connections (
        name TEXT PRIMARY KEY,
        kind TEXT NOT NULL CHECK (kind IN ('dicomweb', 'dimse')),
        -- DICOMweb: the service's base URL (QIDO-RS, WADO-RS and STOW-RS under it)
        url TEXT,
        -- DIMSE: their host, port and AE title, and ours
        host TEXT,
        port INTEGER,
        aet TEXT,
        our_aet TEXT,
        our_port INTEGER,
        auth TEXT NOT NULL CHECK (auth IN ('none', 'basic', 'bearer')),
        username TEXT,
        -- a custom CA file (PEM) for TLS, else the system's
        ca_file TEXT,
        created_at TEXT NOT NULL
      ) STRICT;
    `);
  },
  // 10: team review (src/core/team): users with roles, their login sessions, the audit trail,
  // reading plans, who reads which image, and each reader's own label lineage. Reading never
  // writes mask_revisions: ground truth and corrections stay as they were.
  (db) => {
    db.exec(`
      CREATE TABLE users (
        id INTEGER PRIMARY KEY,
        name TEXT NOT NULL UNIQUE COLLATE NOCASE,
        role TEXT NOT NULL CHECK (role IN ('reader', 'adjudicator', 'researcher', 'admin')),
        -- scrypt$N$r$p$salt$key (base64), src/core/team/passwords.ts
        password_hash TEXT NOT NULL,
        -- sha256 (hex) of the personal API token; the token itself is shown once
        token_hash TEXT NOT NULL UNIQUE,
        created_at TEXT NOT NULL,
        disabled_at TEXT
      ) STRICT;

      CREATE TABLE user_sessions (
        -- sha256 (hex) of the session cookie's secret
        id TEXT PRIMARY KEY,
        user_id INTEGER NOT NULL REFERENCES users(id) ON DELETE CASCADE,
        created_at TEXT NOT NULL,
        expires_at TEXT NOT NULL
      ) STRICT;

      CREATE TABLE audit_log (
        id INTEGER PRIMARY KEY,
        at TEXT NOT NULL,
        -- NULL: the project's owner (single-user mode, the CLI on the folder)
        user_id INTEGER REFERENCES users(id),
        user_name TEXT NOT NULL,
        action TEXT NOT NULL,
        image_id INTEGER,
        -- JSON with what the action needs to be understood later
        detail TEXT
      ) STRICT;
      CREATE INDEX audit_log_user ON audit_log(user_id, at);

      CREATE TABLE reading_plans (
        id INTEGER PRIMARY KEY,
        name TEXT NOT NULL,
        -- JSON: which images (split, filter or all) as the admin chose them
        selection TEXT NOT NULL,
        -- readers per image; NULL: every reader of the team
        readers_per_image INTEGER,
        blind INTEGER NOT NULL DEFAULT 1,
        -- the model's prediction is shown to a reader only after their first save
        reveal_after INTEGER NOT NULL DEFAULT 0,
        -- reader names hidden from the adjudicator
        anonymous_readers INTEGER NOT NULL DEFAULT 0,
        -- mean pairwise Dice below this sends an image to adjudication
        disagreement_threshold REAL NOT NULL DEFAULT 0.7,
        status TEXT NOT NULL DEFAULT 'active' CHECK (status IN ('active', 'closed')),
        created_by INTEGER REFERENCES users(id),
        created_at TEXT NOT NULL
      ) STRICT;

      CREATE TABLE plan_assignments (
        plan_id INTEGER NOT NULL REFERENCES reading_plans(id) ON DELETE CASCADE,
        image_id INTEGER NOT NULL REFERENCES images(id) ON DELETE CASCADE,
        user_id INTEGER NOT NULL REFERENCES users(id),
        assigned_at TEXT NOT NULL,
        -- the reader's head in reading_revisions (NULL: not read yet, or undone to nothing)
        head_id INTEGER REFERENCES reading_revisions(id),
        first_saved_at TEXT,
        PRIMARY KEY (plan_id, image_id, user_id)
      ) STRICT;
      CREATE INDEX plan_assignments_reader ON plan_assignments(user_id, plan_id);
      CREATE INDEX plan_assignments_image ON plan_assignments(image_id);

      CREATE TABLE reading_revisions (
        id INTEGER PRIMARY KEY,
        plan_id INTEGER NOT NULL REFERENCES reading_plans(id) ON DELETE CASCADE,
        image_id INTEGER NOT NULL REFERENCES images(id) ON DELETE CASCADE,
        user_id INTEGER NOT NULL REFERENCES users(id),
        parent_id INTEGER REFERENCES reading_revisions(id),
        created_at TEXT NOT NULL,
        -- 8-bit gray 0/255, as mask_revisions
        png BLOB NOT NULL,
        width INTEGER NOT NULL,
        height INTEGER NOT NULL,
        area INTEGER NOT NULL
      ) STRICT;
      CREATE INDEX reading_revisions_reader ON reading_revisions(plan_id, image_id, user_id);
    `);
  },
  // 11: each image's consensus of a plan's readers (src/core/project/consensus.ts), by
  // STAPLE or majority vote: the per-pixel probability of lesion as an 8-bit gray PNG (0..255;
  // a vote is 0/255), and which reader revisions it combined with STAPLE's p and q of each.
  (db) => {
    db.exec(`
      CREATE TABLE consensus_masks (
        plan_id INTEGER NOT NULL REFERENCES reading_plans(id) ON DELETE CASCADE,
        image_id INTEGER NOT NULL REFERENCES images(id) ON DELETE CASCADE,
        method TEXT NOT NULL CHECK (method IN ('staple', 'vote')),
        probability BLOB NOT NULL,
        width INTEGER NOT NULL,
        height INTEGER NOT NULL,
        -- JSON: [{ userId, revisionId, sensitivity, specificity }] of the readings combined
        readers TEXT NOT NULL,
        created_at TEXT NOT NULL,
        PRIMARY KEY (plan_id, image_id, method)
      ) STRICT;
    `);
  },
  // 12: team review, adjudication (src/core/team/adjudication.ts): who decided an image's final label
  // in a plan, on what basis, and the correction (mask_revisions) that became the label in force.
  (db) => {
    db.exec(`
      CREATE TABLE adjudications (
        id INTEGER PRIMARY KEY,
        plan_id INTEGER NOT NULL REFERENCES reading_plans(id) ON DELETE CASCADE,
        image_id INTEGER NOT NULL REFERENCES images(id) ON DELETE CASCADE,
        -- NULL: the project's owner
        user_id INTEGER REFERENCES users(id),
        decided_at TEXT NOT NULL,
        -- 'reader:NAME' | 'consensus:staple' | 'consensus:vote' | 'edited'
        basis TEXT NOT NULL,
        revision_id INTEGER NOT NULL REFERENCES mask_revisions(id)
      ) STRICT;
      CREATE INDEX adjudications_image ON adjudications(plan_id, image_id, decided_at);
    `);
  },
];
