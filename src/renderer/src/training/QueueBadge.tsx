/** The worklist badge saying why an image is queued under an active-learning sort. */
import type { ImageListItem, ImageSort } from '../../../shared/contract-review';
import { queueBadge } from './training-model';

export function QueueBadge({ item, sort }: { item: ImageListItem; sort: ImageSort }) {
  const badge = queueBadge(item, sort);
  if (!badge) return null;
  return (
    <span className="queue-badge" data-testid="queue-badge" title={badge.title}>
      {badge.label}
    </span>
  );
}
