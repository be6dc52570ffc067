/** `OUT/manifest.csv`: one row per exported mask, RFC 4180 quoting, UTF-8, CRLF line ends. */

export const MANIFEST_FILE = 'manifest.csv';

export const MANIFEST_COLUMNS = [
  'image',
  'mask_file',
  'source',
  'model_version',
  'review_state',
  'last_edit',
  'dice',
  'foreground_pixels',
  'sha256',
  'image_file',
  'image_sha256',
] as const;

export interface ManifestRow {
  /** The image's path relative to its dataset folder, as imported. */
  image: string;
  /** The written file relative to OUT ('/' separators). */
  maskFile: string;
  /** Which revision: ground-truth, correction or prediction. */
  source: string;
  modelVersion: string | null;
  reviewState: string;
  /** When the exported revision was written (ISO 8601). */
  lastEdit: string;
  /** Dice of the exported mask against the ground truth, when both exist. */
  dice: number | null;
  foregroundPixels: number;
  sha256: string;
  /** The copied image (with copyImages) and its hash. */
  imageFile: string | null;
  imageSha256: string | null;
}

export function csvField(value: string | number | null): string {
  if (value === null) return '';
  const text = String(value);
  return /[",\r\n]|^\s|\s$/.test(text) ? `"${text.replace(/"/g, '""')}"` : text;
}

export function manifestCsv(rows: readonly ManifestRow[]): string {
  const lines = [MANIFEST_COLUMNS.join(',')];
  for (const row of rows) {
    lines.push(
      [
        row.image,
        row.maskFile,
        row.source,
        row.modelVersion,
        row.reviewState,
        row.lastEdit,
        row.dice === null ? null : row.dice.toFixed(6),
        row.foregroundPixels,
        row.sha256,
        row.imageFile,
        row.imageSha256,
      ]
        .map(csvField)
        .join(','),
    );
  }
  return `${lines.join('\r\n')}\r\n`;
}

/** Parses RFC 4180 CSV (for tests and tools reading the manifest back). */
export function parseCsv(text: string): string[][] {
  const rows: string[][] = [];
  let row: string[] = [];
  let field = '';
  let quoted = false;
  for (let i = 0; i < text.length; i++) {
    const c = text[i];
    if (quoted) {
      if (c === '"' && text[i + 1] === '"') {
        field += '"';
        i++;
      } else if (c === '"') quoted = false;
      else field += c;
    } else if (c === '"') quoted = true;
    else if (c === ',') {
      row.push(field);
      field = '';
    } else if (c === '\n' || c === '\r') {
      if (c === '\r' && text[i + 1] === '\n') i++;
      row.push(field);
      rows.push(row);
      row = [];
      field = '';
    } else field += c;
  }
  if (field !== '' || row.length > 0) {
    row.push(field);
    rows.push(row);
  }
  return rows;
}
