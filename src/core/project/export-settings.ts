/**
 * Export settings kept in the project (meta): the segment label and colour DICOM SEG exports write.
 * The export room reads them and hands them to the formats, which never read the project.
 */
import { segmentLabelSchema, type SegmentLabel } from '../../shared/export-schemas';
import type { ProjectStore } from './store';

export const DEFAULT_SEGMENT_LABEL: SegmentLabel = {
  name: 'COVID-19 infection',
  colour: '#ff3030',
};

/** The segment label DICOM SEG exports write: the project's settings (meta), else the defaults. */
export function readSegmentLabel(store: ProjectStore): SegmentLabel {
  const stored = segmentLabelSchema.safeParse({
    name: store.getMeta('label_name') ?? DEFAULT_SEGMENT_LABEL.name,
    colour: store.getMeta('label_colour') ?? DEFAULT_SEGMENT_LABEL.colour,
  });
  return stored.success ? stored.data : { ...DEFAULT_SEGMENT_LABEL };
}

/** Keeps the segment label in the project's settings for later exports. */
export function writeSegmentLabel(store: ProjectStore, label: SegmentLabel): SegmentLabel {
  const checked = segmentLabelSchema.parse(label);
  store.db.transaction(() => {
    store.setMeta('label_name', checked.name);
    store.setMeta('label_colour', checked.colour);
  })();
  return checked;
}
