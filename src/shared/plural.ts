/**
 * A count with its noun in the right number ("1 image", "2 images", "0 images"), for every place
 * the app shows a count to a reader: the worklist, dialogs, notices and the CLI.
 */
export function plural(count: number, singular: string, pluralForm = `${singular}s`): string {
  return `${count} ${count === 1 ? singular : pluralForm}`;
}
