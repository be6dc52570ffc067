/**
 * Images whose file could not be shown, remembered from the media requests that failed (the file
 * replaced, damaged or undecodable since import), so the worklist and the image's detail can say
 * so: a broken thumbnail alone is easy to miss, and thumbnails are cached from before the damage.
 *
 * Kept in memory per open project (never written: the file may be repaired any moment); a later
 * request that decodes the file forgets the failure.
 */
import type { ProjectStore } from './store';

/** A failure remembered with the content hash it was seen under: a re-import starts afresh. */
interface MediaFailure {
  sha256: string;
  reason: string;
}

const failuresByProject = new WeakMap<ProjectStore, Map<number, MediaFailure>>();

function failuresOf(store: ProjectStore): Map<number, MediaFailure> {
  let failures = failuresByProject.get(store);
  if (!failures) {
    failures = new Map();
    failuresByProject.set(store, failures);
  }
  return failures;
}

export function rememberMediaError(
  store: ProjectStore,
  image: { id: number; sha256: string },
  reason: string,
): void {
  failuresOf(store).set(image.id, { sha256: image.sha256, reason });
}

export function forgetMediaError(store: ProjectStore, imageId: number): void {
  failuresByProject.get(store)?.delete(imageId);
}

/** Why the image's file could not be shown last time it was asked for, or null. */
export function mediaErrorOf(
  store: ProjectStore,
  image: { id: number; sha256: string },
): string | null {
  const failure = failuresByProject.get(store)?.get(image.id);
  return failure && failure.sha256 === image.sha256 ? failure.reason : null;
}
