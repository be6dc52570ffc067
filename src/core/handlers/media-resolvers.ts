/**
 * Media by id for the review UI: `image` (the source as a gray PNG; 16-bit stays 16-bit unless
 * `depth=8`), `thumbnail` (small 8-bit PNG, cached in memory and in `<project>/cache/`), `mask`
 * (a mask revision's PNG, immutable), `reading` (a team reader's label revision). Each asks
 * core/team/visibility.ts whether the caller may see it (the blind rule). Registered on import of this module.
 */
import { randomUUID } from 'node:crypto';
import fsp from 'node:fs/promises';
import path from 'node:path';
import { ApiError } from '../../shared/contract';
import { imageToGrayPng, probeImage, thumbnailPng } from '../dataset/decode';
import { describeFsError, readRegularFile } from '../fs-errors';
import { registerMediaResolver, type MediaResponse } from './media';
import { getImage, imageAbsolutePath, type ImageRecord } from '../project/images';
import { getRevisionPng } from '../project/masks';
import { forgetMediaError, rememberMediaError } from '../project/media-errors';
import type { ProjectStore } from '../project/store';
import { readingRevision } from '../project/readings';
import { assertImageVisible, assertMaskVisible, assertReadingVisible } from '../team/visibility';

const THUMBNAIL_SIZE = 96;
const MEMORY_CACHE_LIMIT = 2000;
const thumbnailCache = new Map<string, Buffer>();

function remember(key: string, body: Buffer): void {
  thumbnailCache.set(key, body);
  if (thumbnailCache.size > MEMORY_CACHE_LIMIT) {
    const oldest = thumbnailCache.keys().next().value;
    if (oldest !== undefined) thumbnailCache.delete(oldest);
  }
}

/** How an image is named in a failure: its id and its file, so the user can find it. */
function named(image: ImageRecord): string {
  return `image ${image.id} (${image.relPath} in ${image.datasetRoot})`;
}

/**
 * The image's file, if its header still has the size recorded at import: a file replaced since
 * (perhaps by one far larger than the import's pixel limit) is refused before it is decoded.
 */
async function readSource(image: ImageRecord): Promise<Buffer> {
  let input: Buffer;
  try {
    input = await readRegularFile(imageAbsolutePath(image));
  } catch (error) {
    throw new ApiError(
      'not-found',
      `the file of ${named(image)} cannot be read: ${describeFsError(error)}`,
    );
  }
  let header;
  try {
    header = await probeImage(input);
  } catch (error) {
    throw undecodable(image, error);
  }
  if (header.width !== image.width || header.height !== image.height) {
    throw new ApiError(
      'not-found',
      `the file of ${named(image)} is now ${header.width}x${header.height}, imported as ${image.width}x${image.height}; import the dataset again`,
    );
  }
  return input;
}

function undecodable(image: ImageRecord, error: unknown): ApiError {
  return new ApiError(
    'not-found',
    `${named(image)} cannot be decoded: ${(error as Error).message}`,
  );
}

function png(body: Buffer, immutable: boolean): MediaResponse {
  return { contentType: 'image/png', body, immutable };
}

/** Runs `work` on the image's file; its failure is remembered for the worklist (./media-errors). */
async function fromSource<T>(
  store: ProjectStore,
  image: ImageRecord,
  work: (input: Buffer) => Promise<T>,
): Promise<T> {
  try {
    const input = await readSource(image);
    let result: T;
    try {
      result = await work(input);
    } catch (error) {
      throw undecodable(image, error);
    }
    forgetMediaError(store, image.id);
    return result;
  } catch (error) {
    rememberMediaError(store, image, (error as Error).message);
    throw error;
  }
}

registerMediaResolver('image', async (context, id, query, caller) => {
  const store = context.project();
  assertImageVisible(store.db, caller, id);
  const image = getImage(store.db, id);
  const depth = query.get('depth') === '8' ? 8 : undefined;
  return png(await fromSource(store, image, (input) => imageToGrayPng(input, depth)), false);
});

registerMediaResolver('thumbnail', async (context, id, query, caller) => {
  const store = context.project();
  assertImageVisible(store.db, caller, id);
  const image = getImage(store.db, id);
  const size = Math.round(Math.min(512, Math.max(16, Number(query.get('size')) || THUMBNAIL_SIZE)));
  const key = `${image.sha256}-${size}`;
  const memory = thumbnailCache.get(key);
  if (memory) return png(memory, false);
  const cacheDir = path.join(store.dir, 'cache', 'thumbnails');
  const cacheFile = path.join(cacheDir, `${key}.png`);
  try {
    const cached = await fsp.readFile(cacheFile);
    remember(key, cached);
    return png(cached, false);
  } catch {
    // not cached yet
  }
  const body = await fromSource(store, image, (input) => thumbnailPng(input, size));
  remember(key, body);
  // Write then rename: a concurrent reader never sees half a thumbnail. The cache is a nicety:
  // a failure to write it (read-only project, full disk) must not fail the request.
  const temporary = `${cacheFile}.${process.pid}.${randomUUID()}.tmp`;
  try {
    await fsp.mkdir(cacheDir, { recursive: true });
    await fsp.writeFile(temporary, body);
    await fsp.rename(temporary, cacheFile);
  } catch {
    await fsp.rm(temporary, { force: true }).catch(() => undefined);
  }
  return png(body, false);
});

registerMediaResolver('mask', async (context, id, _query, caller) => {
  const db = context.project().db;
  assertMaskVisible(db, caller, id);
  return png(getRevisionPng(db, id), true);
});

// A team reader's own label revision (the blind rule: a reader gets only their own).
registerMediaResolver('reading', async (context, id, _query, caller) => {
  const db = context.project().db;
  assertReadingVisible(db, caller, id);
  const revision = readingRevision(db, id);
  if (!revision) throw new ApiError('not-found', `no reading revision ${id}`);
  return png(revision.png, true);
});
