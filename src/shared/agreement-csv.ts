/**
 * A plan's agreement report (./agreement-schemas.ts) as one CSV in long form, one figure a row:
 * `scope,image,reader_a,reader_b,figure,value,count`. Scopes: `plan` (kappa, mean Dice),
 * `pair` (mean Dice of two readers; count: images both read), `reader` (against the consensus;
 * count: images compared), `image` (mean Dice, calls, dispute) and `image-pair` (one pair's Dice
 * on one image; the figure is `dice_both_empty` when both left it empty). The CLI's `--csv` and
 * the Team panel's download write the same text.
 */
import type { AgreementReport } from './agreement-schemas';

const HEADER = ['scope', 'image', 'reader_a', 'reader_b', 'figure', 'value', 'count'];

/** A CSV field: quoted when it holds a comma, quote or line break (RFC 4180). */
function field(value: string | number | boolean | null): string {
  if (value === null) return '';
  const text = String(value);
  return /[",\r\n]/.test(text) ? `"${text.replace(/"/g, '""')}"` : text;
}

export function agreementCsv(report: AgreementReport): string {
  const rows: (string | number | boolean | null)[][] = [HEADER];
  const name = (index: number) => report.readers[index]?.label ?? '';
  const kappaName = report.kappa.kind === 'cohen' ? 'cohen_kappa' : 'fleiss_kappa';
  rows.push(['plan', '', '', '', kappaName, report.kappa.value, report.kappa.images]);
  rows.push(['plan', '', '', '', 'mean_dice', report.summary.meanDice, report.summary.compared]);
  rows.push([
    'plan',
    '',
    '',
    '',
    'disputed_images',
    report.summary.disputed,
    report.summary.images,
  ]);
  for (let a = 0; a < report.readers.length; a++) {
    for (let b = a + 1; b < report.readers.length; b++) {
      rows.push([
        'pair',
        '',
        name(a),
        name(b),
        'mean_dice',
        report.matrix[a][b],
        report.pairImages[a][b],
      ]);
    }
  }
  for (const reader of report.readers) {
    const count = reader.consensusImages;
    rows.push(['reader', '', reader.label, '', `dice_vs_${report.method}`, reader.dice, count]);
    rows.push(['reader', '', reader.label, '', 'sensitivity', reader.sensitivity, count]);
    rows.push(['reader', '', reader.label, '', 'specificity', reader.specificity, count]);
    rows.push(['reader', '', reader.label, '', 'images_read', reader.read, reader.assigned]);
    rows.push(['reader', '', reader.label, '', 'images_positive', reader.positive, reader.read]);
  }
  for (const image of report.images) {
    rows.push(['image', image.name, '', '', 'mean_dice', image.meanDice, image.pairs.length]);
    rows.push(['image', image.name, '', '', 'positive_calls', image.positive, image.read]);
    rows.push(['image', image.name, '', '', 'negative_calls', image.negative, image.read]);
    rows.push([
      'image',
      image.name,
      '',
      '',
      'both_empty_pairs',
      image.bothEmptyPairs,
      image.pairs.length,
    ]);
    rows.push(['image', image.name, '', '', 'disputed', image.disputed ? 1 : 0, image.read]);
    for (const pair of image.pairs) {
      rows.push([
        'image-pair',
        image.name,
        name(pair.a),
        name(pair.b),
        pair.bothEmpty ? 'dice_both_empty' : 'dice',
        pair.dice,
        1,
      ]);
    }
  }
  return rows.map((row) => row.map(field).join(',')).join('\r\n') + '\r\n';
}
