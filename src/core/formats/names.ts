/**
 * Output names of an export. Names come from the database (relative paths recorded at import),
 * so every segment is sanitised and the final path is checked to stay inside the output folder.
 *
 * QaTa layout: an image at `<folder>/Images/<name>` exports its mask to
 * `<folder>/Ground-truths/mask_<stem>.png` (and its overlay to `<folder>/Overlays/overlay_<stem>.png`),
 * so the output can be re-imported or read by other QaTa tools.
 */
import path from 'node:path';

const IMAGE_DIR = /^(images?|img)$/i;
const WINDOWS_RESERVED = /^(con|prn|aux|nul|com[0-9]|lpt[0-9])(\..*)?$/i;
/** Most file systems allow 255 bytes per name; leave room for the temporary suffix. */
const MAX_SEGMENT_BYTES = 200;

/** One path segment that is safe on Linux, macOS and Windows and cannot climb out of a folder. */
export function sanitiseSegment(segment: string): string {
  let name = segment
    .normalize('NFC')
    // Control characters and characters Windows forbids (separators included).
    // eslint-disable-next-line no-control-regex -- control characters are exactly what is removed
    .replace(/[\u0000-\u001f\u007f<>:"/\\|?*]/g, '_')
    // Windows drops trailing dots and spaces, which would merge distinct names.
    .replace(/[. ]+$/, '');
  if (name === '') name = '_';
  if (WINDOWS_RESERVED.test(name)) name = `_${name}`;
  if (Buffer.byteLength(name) > MAX_SEGMENT_BYTES) {
    const extension = path.extname(name).slice(0, 16);
    let stem = name.slice(0, name.length - extension.length);
    while (Buffer.byteLength(stem + extension) > MAX_SEGMENT_BYTES) stem = stem.slice(0, -1);
    name = stem + extension;
  }
  return name;
}

/** Splits a stored relative path on either separator, dropping empty and `.`/`..` segments' power. */
export function pathSegments(relPath: string): string[] {
  return relPath
    .split(/[\\/]+/)
    .filter((segment) => segment !== '' && segment !== '.')
    .map((segment) => (segment === '..' ? '_' : segment));
}

/** Name without its last extension. */
export function stemOf(name: string): string {
  const extension = path.extname(name);
  return extension && extension !== name ? name.slice(0, -extension.length) : name;
}

export interface QataNames {
  /** Sanitised folder segments above `Images/` (empty for a v1 layout root). */
  folder: string[];
  /** Sanitised image file name. */
  imageName: string;
  stem: string;
}

/** The QaTa folder and names of an image from its stored relative path. */
export function qataNames(relPath: string, prefix: string[] = []): QataNames {
  const segments = pathSegments(relPath);
  const name = segments.pop() ?? 'image';
  if (segments.length > 0 && IMAGE_DIR.test(segments[segments.length - 1])) segments.pop();
  return {
    folder: [...prefix, ...segments].map(sanitiseSegment),
    imageName: sanitiseSegment(name),
    stem: stemOf(name),
  };
}

/** Output paths relative to OUT, with '/' separators. */
export function maskFileOf(names: QataNames): string {
  return [...names.folder, 'Ground-truths', sanitiseSegment(`mask_${names.stem}.png`)].join('/');
}

export function overlayFileOf(names: QataNames): string {
  return [...names.folder, 'Overlays', sanitiseSegment(`overlay_${names.stem}.png`)].join('/');
}

export function imageFileOf(names: QataNames): string {
  return [...names.folder, 'Images', names.imageName].join('/');
}

export function isInside(child: string, parent: string): boolean {
  const relative = path.relative(parent, child);
  return relative === '' || (!relative.startsWith('..') && !path.isAbsolute(relative));
}

/** Absolute path of an output file; throws if it would leave OUT (defence in depth). */
export function resolveInside(out: string, relative: string): string {
  const absolute = path.resolve(out, ...relative.split('/'));
  if (!isInside(absolute, out) || absolute === path.resolve(out)) {
    throw new Error(`output name ${JSON.stringify(relative)} leaves the output folder`);
  }
  return absolute;
}
