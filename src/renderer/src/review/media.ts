/**
 * Fetches and decodes id-keyed media (images, mask revisions) into one byte per pixel, with a
 * small cache so a decoded array is reused across switches (that is what makes neighbour
 * preloading pay off). A mask revision id never changes content, so masks are cached by URL; the
 * file behind an image id can (a refresh import of a changed file), so images are cached by the
 * content hash the host gives for them.
 */

export interface GreyImage {
  width: number;
  height: number;
  /** One value per pixel (the red channel of the decoded PNG). */
  data: Uint8Array;
  maxValue: number;
}

/** A displayable image at its own bit depth (16-bit radiographs keep all their levels). */
export interface SourceImage {
  width: number;
  height: number;
  data: Uint8Array | Uint16Array;
  maxValue: number;
}

const imageCache = new Map<string, Promise<SourceImage>>();

/**
 * Loads an image for display, cached under `contentHash` (the image's sha256). 16-bit PNGs are
 * decoded in JavaScript (browsers would reduce them to 8 bits); 8-bit ones by the browser's
 * native decoder.
 */
/** The host refused a media request; the message is its reason in words. */
export class MediaError extends Error {}

/**
 * The host's reason for refusing a media request: the server answers `{ code, message }` JSON,
 * Electron's media protocol the message as text.
 */
export async function refusalReason(response: Response): Promise<string> {
  const text = await response.text().catch(() => '');
  try {
    const body = JSON.parse(text) as { message?: unknown };
    if (typeof body.message === 'string' && body.message) return body.message;
  } catch {
    // Not JSON: the text is the reason.
  }
  return text.trim() || `the host answered HTTP ${response.status}`;
}

export function loadImage(url: string, contentHash: string): Promise<SourceImage> {
  const hit = imageCache.get(contentHash);
  if (hit) {
    imageCache.delete(contentHash);
    imageCache.set(contentHash, hit);
    return hit;
  }
  const loading = (async (): Promise<SourceImage> => {
    const response = await fetch(url);
    if (!response.ok) throw new MediaError(await refusalReason(response));
    const bytes = new Uint8Array(await response.arrayBuffer());
    // PNG IHDR bit depth is byte 24.
    if (bytes[24] === 16) {
      const decoded = await decodeGreyPng(bytes);
      if (decoded) return { ...decoded, maxValue: 65535 };
    }
    return decodeBlob(new Blob([bytes]));
  })();
  imageCache.set(contentHash, loading);
  loading.catch(() => imageCache.delete(contentHash));
  while (imageCache.size > CACHE_LIMIT) imageCache.delete(imageCache.keys().next().value!);
  return loading;
}

import { decodeGreyPng } from './png16';

const CACHE_LIMIT = 48;
const cache = new Map<string, Promise<GreyImage>>();

export function loadGrey(url: string): Promise<GreyImage> {
  const hit = cache.get(url);
  if (hit) {
    // Refresh recency: Map keeps insertion order, the oldest entry is evicted first.
    cache.delete(url);
    cache.set(url, hit);
    return hit;
  }
  const loading = decodeGrey(url);
  cache.set(url, loading);
  loading.catch(() => cache.delete(url));
  while (cache.size > CACHE_LIMIT) cache.delete(cache.keys().next().value!);
  return loading;
}

async function decodeGrey(url: string): Promise<GreyImage> {
  const response = await fetch(url);
  if (!response.ok) throw new MediaError(await refusalReason(response));
  return decodeBlob(await response.blob());
}

async function decodeBlob(blob: Blob): Promise<GreyImage> {
  // No colour management and no premultiplication: mask values must come back exactly.
  const bitmap = await createImageBitmap(blob, {
    colorSpaceConversion: 'none',
    premultiplyAlpha: 'none',
  });
  const { width, height } = bitmap;
  const canvas = new OffscreenCanvas(width, height);
  const context = canvas.getContext('2d', { willReadFrequently: true })!;
  context.drawImage(bitmap, 0, 0);
  bitmap.close();
  const rgba = context.getImageData(0, 0, width, height).data;
  const data = new Uint8Array(width * height);
  for (let i = 0, j = 0; i < data.length; i++, j += 4) data[i] = rgba[j];
  return { width, height, data, maxValue: 255 };
}

/** Encodes a 0/1 label map as a greyscale-looking PNG (0/255), base64 without data: prefix. */
export async function encodeLabelPng(
  data: Uint8Array,
  width: number,
  height: number,
): Promise<string> {
  const canvas = new OffscreenCanvas(width, height);
  const context = canvas.getContext('2d')!;
  const image = context.createImageData(width, height);
  const rgba = image.data;
  for (let i = 0, j = 0; i < data.length; i++, j += 4) {
    const v = data[i] ? 255 : 0;
    rgba[j] = v;
    rgba[j + 1] = v;
    rgba[j + 2] = v;
    rgba[j + 3] = 255;
  }
  context.putImageData(image, 0, 0);
  const blob = await canvas.convertToBlob({ type: 'image/png' });
  return toBase64(new Uint8Array(await blob.arrayBuffer()));
}

function toBase64(bytes: Uint8Array): string {
  let binary = '';
  const chunk = 0x8000;
  for (let i = 0; i < bytes.length; i += chunk) {
    binary += String.fromCharCode(...bytes.subarray(i, i + chunk));
  }
  return btoa(binary);
}
