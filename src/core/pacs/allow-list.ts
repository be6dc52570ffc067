/**
 * Who may push to the project's store SCP (`qataseg serve --store-scp`): the calling AE titles of
 * the allow list (project meta `pacs_allowed_aets`, a JSON array, kept by `qataseg pacs allow`)
 * and those of the project's DIMSE connections (a PACS we query may also send to us: a C-MOVE
 * that someone else starts, for instance). Any other calling AE title is refused at association.
 */
import type { ProjectStore } from '../project/store';
import { pacsAllowInputSchema, type PacsAllowInput } from '../../shared/pacs-schemas';

const KEY = 'pacs_allowed_aets';

export function allowList(store: ProjectStore): string[] {
  try {
    const value = JSON.parse(store.getMeta(KEY) ?? '[]') as unknown;
    return Array.isArray(value) ? value.filter((entry) => typeof entry === 'string') : [];
  } catch {
    return [];
  }
}

/** Adds and removes AE titles; returns the list as it now is (sorted). */
export function changeAllowList(store: ProjectStore, input: PacsAllowInput): string[] {
  const { add, remove } = pacsAllowInputSchema.parse(input);
  const list = new Set(allowList(store));
  for (const aet of add ?? []) list.add(aet.trim());
  for (const aet of remove ?? []) list.delete(aet.trim());
  const sorted = [...list].sort();
  if (add?.length || remove?.length) store.setMeta(KEY, JSON.stringify(sorted));
  return sorted;
}

/** Whether a calling AE title may associate with our store SCP. */
export function mayPush(store: ProjectStore, callingAet: string): boolean {
  const aet = callingAet.trim();
  if (allowList(store).includes(aet)) return true;
  const row = store.db
    .prepare("SELECT 1 FROM pacs_connections WHERE kind = 'dimse' AND aet = ? LIMIT 1")
    .get(aet);
  return row !== undefined;
}
