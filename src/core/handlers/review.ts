/**
 * Handlers of the review room's contract methods (src/shared/contract-review.ts). A team reader's
 * calls go to core/team/reader-review.ts (their queue and their own label lineage).
 */
import { ApiError } from '../../shared/contract';
import type { HandlerGroup, ServiceContext } from './context';
import type { ReaderCaller } from '../team/visibility';
import { imageFacets } from '../project/dicom-tags';
import { listImages } from '../project/images';
import { listRevisions } from '../project/masks';
import { mediaErrorOf } from '../project/media-errors';
import {
  activeModel,
  imageDetail,
  imageDisplay,
  layerMetrics,
  redo,
  saveCorrectionDetail,
  setReviewState,
  undo,
} from '../project/review';
import {
  markReaderNegative,
  moveReaderLabel,
  readerDetail,
  readerImages,
  saveReaderLabel,
} from '../team/reader-review';
import { assertImageVisible, isReader } from '../team/visibility';
// Registers the image, thumbnail and mask media resolvers with the service.
import './media-resolvers';

export const reviewHandlers: HandlerGroup = {
  'images.list': (input, context, caller) => {
    const store = context.project();
    if (isReader(caller)) return readerImages(store, caller, input);
    const page = listImages(store.db, input, activeModel(store));
    return {
      ...page,
      items: page.items.map((item) => ({ ...item, mediaError: mediaErrorOf(store, item) })),
    };
  },
  'images.get': (input, context, caller) =>
    isReader(caller)
      ? readerDetail(context.project(), caller, input.id)
      : imageDetail(context.project(), input.id),
  'images.facets': (_input, context) => imageFacets(context.project().db),
  'images.display': (input, context, caller) => {
    assertImageVisible(context.project().db, caller, input.imageId);
    return imageDisplay(context.project(), input.imageId);
  },
  'masks.history': (input, context) => {
    const store = context.project();
    imageDetail(store, input.imageId); // not-found for an unknown image
    return listRevisions(store.db, input.imageId);
  },
  'masks.save': async (input, context, caller) => {
    const detail = isReader(caller)
      ? await saveReaderLabel(context.project(), caller, input)
      : await saveCorrectionDetail(context.project(), input);
    context.emit('images.changed', { reason: 'mask', imageIds: [input.imageId] }, caller);
    return detail;
  },
  'masks.undo': async (input, context, caller) => {
    const store = context.project();
    if (isReader(caller)) return readerMove(context, caller, input.imageId, 'undo');
    if (await undo(store, input.imageId)) {
      context.emit('images.changed', { reason: 'mask', imageIds: [input.imageId] }, caller);
    }
    return imageDetail(store, input.imageId);
  },
  'masks.redo': async (input, context, caller) => {
    const store = context.project();
    if (isReader(caller)) return readerMove(context, caller, input.imageId, 'redo');
    if (await redo(store, input.imageId)) {
      context.emit('images.changed', { reason: 'mask', imageIds: [input.imageId] }, caller);
    }
    return imageDetail(store, input.imageId);
  },
  'review.set': async (input, context, caller) => {
    const store = context.project();
    if (isReader(caller)) {
      // A reader's only state is their reading: "read, no lesion" saves an empty one.
      if (input.state !== 'negative' || input.comment !== undefined) {
        throw new ApiError('forbidden', 'a reader marks an image read by saving their label');
      }
      const detail = await markReaderNegative(store, caller, input.imageId);
      context.emit('images.changed', { reason: 'mask', imageIds: [input.imageId] }, caller);
      return detail;
    }
    setReviewState(store, input.imageId, { state: input.state, comment: input.comment });
    context.emit('images.changed', { reason: 'review', imageIds: [input.imageId] }, caller);
    return imageDetail(store, input.imageId);
  },
  'images.metrics': (input, context) => layerMetrics(context.project(), input),
};

function readerMove(
  context: ServiceContext,
  reader: ReaderCaller,
  imageId: number,
  direction: 'undo' | 'redo',
) {
  const { moved, detail } = moveReaderLabel(context.project(), reader, imageId, direction);
  if (moved) context.emit('images.changed', { reason: 'mask', imageIds: [imageId] }, reader);
  return detail;
}
