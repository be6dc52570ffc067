/**
 * `OUT/manifest.csv`: one row per exported mask, RFC 4180 quoting, UTF-8, CRLF line ends.
 *
 * Text cells come from file names and the database, so a spreadsheet could run one as a formula
 * (CSV injection). A text cell that begins with `=`, `+`, `-`, `@`, tab or carriage return gets a
 * leading `'` inside quotes, as OWASP recommends; one that begins with `'` gets one too, so
 * `csvText` can undo the guard exactly. Numeric cells (dice, pixel counts) are written as numbers.
 */

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

/** A text cell a spreadsheet would evaluate (OWASP), or one that starts with the guard itself. */
const FORMULA_START = /^[=+\-@\t\r']/;
/** Cells RFC 4180 requires quoted, plus edge spaces (some readers trim them). */
const NEEDS_QUOTES = /[",\r\n]|^\s|\s$/;

/** A text cell: guarded against formula evaluation, then quoted as RFC 4180 needs. */
export function csvField(value: string | null): string {
  if (value === null) return '';
  const guarded = FORMULA_START.test(value);
  const text = guarded ? `'${value}` : value;
  return guarded || NEEDS_QUOTES.test(text) ? `"${text.replace(/"/g, '""')}"` : text;
}

/** A numeric cell: never guarded (a minus sign is a number here, not a formula). */
export function csvNumber(value: number | null, fractionDigits?: number): string {
  if (value === null) return '';
  return fractionDigits === undefined ? String(value) : value.toFixed(fractionDigits);
}

/** The text of a parsed manifest cell without the formula guard `csvField` added. */
export function csvText(field: string): string {
  return field.startsWith("'") && FORMULA_START.test(field.slice(1)) ? field.slice(1) : field;
}

export function manifestCsv(rows: readonly ManifestRow[]): string {
  const lines = [MANIFEST_COLUMNS.join(',')];
  for (const row of rows) {
    lines.push(
      [
        csvField(row.image),
        csvField(row.maskFile),
        csvField(row.source),
        csvField(row.modelVersion),
        csvField(row.reviewState),
        csvField(row.lastEdit),
        csvNumber(row.dice, 6),
        csvNumber(row.foregroundPixels),
        csvField(row.sha256),
        csvField(row.imageFile),
        csvField(row.imageSha256),
      ].join(','),
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
