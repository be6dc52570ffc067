/**
 * Binary media by id (images, thumbnails, mask revisions) for the custom protocol and the HTTP
 * /media routes. Never takes a path from the caller: the id is looked up in the project.
 */
import { ApiError, type MediaKind } from '../../shared/contract';
import type { ServiceContext } from './context';
import type { Caller } from '../team/caller';

export interface MediaResponse {
  contentType: string;
  body: Buffer;
  /** Content that never changes for an id (mask revisions) may be cached forever. */
  immutable: boolean;
}

export type MediaResolver = (
  context: ServiceContext,
  id: number,
  query: URLSearchParams,
  caller: Caller,
) => Promise<MediaResponse>;

const resolvers = new Map<MediaKind, MediaResolver>();

/** Rooms register how they serve a kind (the dataset room: image and thumbnail; review: mask). */
export function registerMediaResolver(kind: MediaKind, resolver: MediaResolver): void {
  resolvers.set(kind, resolver);
}

export async function serveMedia(
  context: ServiceContext,
  kind: MediaKind,
  id: number,
  query: URLSearchParams,
  caller: Caller,
): Promise<MediaResponse> {
  const resolver = resolvers.get(kind);
  if (!resolver) throw new ApiError('not-found', `no media of kind ${kind}`);
  return resolver(context, id, query, caller);
}
