/** Handlers of the review room's contract methods (src/shared/contract-review.ts). */
import type { HandlerGroup } from './context';
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
// Registers the image, thumbnail and mask media resolvers with the service.
import './media-resolvers';

export const reviewHandlers: HandlerGroup = {
  'images.list': (input, context) => {
    const store = context.project();
    const page = listImages(store.db, input, activeModel(store));
    return {
      ...page,
      items: page.items.map((item) => ({ ...item, mediaError: mediaErrorOf(store, item) })),
    };
  },
  'images.get': (input, context) => imageDetail(context.project(), input.id),
  'images.facets': (_input, context) => imageFacets(context.project().db),
  'images.display': (input, context) => imageDisplay(context.project(), input.imageId),
  'masks.history': (input, context) => {
    const store = context.project();
    imageDetail(store, input.imageId); // not-found for an unknown image
    return listRevisions(store.db, input.imageId);
  },
  'masks.save': async (input, context) => {
    const detail = await saveCorrectionDetail(context.project(), input);
    context.emit('images.changed', { reason: 'mask', imageIds: [input.imageId] });
    return detail;
  },
  'masks.undo': async (input, context) => {
    const store = context.project();
    if (await undo(store, input.imageId)) {
      context.emit('images.changed', { reason: 'mask', imageIds: [input.imageId] });
    }
    return imageDetail(store, input.imageId);
  },
  'masks.redo': async (input, context) => {
    const store = context.project();
    if (await redo(store, input.imageId)) {
      context.emit('images.changed', { reason: 'mask', imageIds: [input.imageId] });
    }
    return imageDetail(store, input.imageId);
  },
  'review.set': (input, context) => {
    const store = context.project();
    setReviewState(store, input.imageId, { state: input.state, comment: input.comment });
    context.emit('images.changed', { reason: 'review', imageIds: [input.imageId] });
    return imageDetail(store, input.imageId);
  },
  'images.metrics': (input, context) => layerMetrics(context.project(), input),
};
