/**
 * Sort key for natural order: runs of digits are zero-padded to a fixed width, letters are
 * lower-cased, so `covid_2.png` sorts before `covid_10.png` with a plain index.
 */
export function naturalSortKey(name: string): string {
  return name
    .toLowerCase()
    .replace(/\d+/g, (digits) => digits.replace(/^0+(?=\d)/, '').padStart(12, '0'));
}
