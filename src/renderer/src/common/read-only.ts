/**
 * A project opened read-only (`qataseg serve --read-only`, a project on a network folder): the
 * host refuses every write with its reason, so the page turns off what would write and says why.
 * Plain text only (the editor registry and the end-to-end helpers import it outside a page).
 */

/** What a disabled control says on hover, in the host's own words. */
export function readOnlyMessage(reason: string): string {
  return `The project is open read-only: ${reason}`;
}
