/**
 * COCO: one `annotations.json` for the whole export, with an uncompressed column-major RLE per
 * image that has foreground (iscrowd 1, the way COCO marks an RLE segmentation).
 */
import { boundingBox, encodeRle, type CocoRle } from './rle';
import { imageFileOf } from './names';
import { registerExportFormat } from './registry';

export const COCO_FILE = 'annotations.json';

interface CocoEntry {
  rle: CocoRle | null;
  bbox: [number, number, number, number] | null;
}

registerExportFormat<CocoEntry>({
  id: 'coco',
  label: 'COCO JSON (RLE)',
  imageFiles: () => [],
  datasetFiles: () => [{ file: COCO_FILE, role: 'mask' }],
  render: async ({ mask }) => ({
    data: [],
    record: {
      rle: mask.foreground > 0 ? encodeRle(mask.binary, mask.width, mask.height) : null,
      bbox: boundingBox(mask.binary, mask.width, mask.height),
    },
  }),
  finish: async ({ records, model, options }) => {
    let annotationId = 0;
    const document = JSON.stringify({
      info: {
        description: `QaTa Seg Workstation export (source ${options.source}${model ? `, model ${model}` : ''})`,
        version: '1.0',
        date_created: new Date().toISOString(),
        // Say which RLE flavour this is: readers differ in what they accept.
        mask_encoding:
          'uncompressed RLE: counts alternate background/foreground runs in column-major order, starting with background',
      },
      licenses: [],
      categories: [{ id: 1, name: 'infection', supercategory: 'lesion' }],
      images: records.map(({ image, names, mask }) => ({
        id: image.id,
        // The image's path relative to OUT, as the QaTa layout (and --images) places it.
        file_name: imageFileOf(names),
        width: mask.width,
        height: mask.height,
      })),
      annotations: records
        .filter(({ record, mask }) => record?.rle && mask.foreground > 0)
        .map(({ image, record, mask }) => ({
          id: ++annotationId,
          image_id: image.id,
          category_id: 1,
          segmentation: record!.rle,
          area: mask.foreground,
          bbox: record!.bbox,
          iscrowd: 1,
        })),
    });
    return [document];
  },
});
