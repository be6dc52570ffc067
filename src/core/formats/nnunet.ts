/**
 * nnU-Net v2's raw dataset layout, for training on a cluster:
 *   Dataset<NNN>_<NAME>/dataset.json
 *   Dataset<NNN>_<NAME>/imagesTr/<case>_0000.png   labelsTr/<case>.png   (train, control, unassigned)
 *   Dataset<NNN>_<NAME>/imagesTs/<case>_0000.png   labelsTs/<case>.png   (the locked test split)
 *   Dataset<NNN>_<NAME>/splits_final.json          (copy to nnUNet_preprocessed/Dataset<NNN>_<NAME>/)
 * Images are 8-bit gray PNGs (one channel, `_0000`), labels 8-bit PNGs with 0 background and
 * 1 infection, each label the size of its image. The case is the image's stem with anything but
 * letters, digits, `-` and `_` replaced by `_`, so nnU-Net's predictions (`<case>.png`) pair back
 * to the images by name. labelsTs is not read by nnU-Net; it is there for nnUNetv2_evaluate_folder.
 * splits_final.json has one fold: the validation hold-out this project's trainer uses (the active
 * version's fraction and seed, else 10% with seed 1), so fold 0 validates on the same images.
 */
import type { ExportOptions } from '../../shared/export-schemas';
import { splitTrainVal } from '../math/split';
import { encodePng } from './png';
import {
  registerExportFormat,
  type ExportImage,
  type ExportTarget,
  type PlannedFile,
} from './registry';

/** The nnU-Net case identifier of an image. */
export function nnunetCase(stem: string): string {
  const id = stem.replace(/[^A-Za-z0-9_-]/g, '_');
  return id === '' ? '_' : id;
}

export function nnunetDatasetFolder(options: Pick<ExportOptions, 'datasetId' | 'datasetName'>) {
  if (options.datasetId === undefined || !options.datasetName)
    throw new Error('the nnunet format needs a dataset id and name (--dataset-id, --dataset-name)');
  return `Dataset${String(options.datasetId).padStart(3, '0')}_${options.datasetName}`;
}

const isTest = (image: Pick<ExportImage, 'split'>) => image.split === 'test';

function caseFiles({ image, names, options }: ExportTarget): PlannedFile[] {
  const root = nnunetDatasetFolder(options);
  const id = nnunetCase(names.stem);
  const suffix = isTest(image) ? 'Ts' : 'Tr';
  return [
    { file: `${root}/images${suffix}/${id}_0000.png`, role: 'image' },
    { file: `${root}/labels${suffix}/${id}.png`, role: 'mask' },
  ];
}

const DEFAULT_HOLD_OUT = { valFraction: 0.1, seed: 1 };

registerExportFormat({
  id: 'nnunet',
  label: 'nnU-Net v2 raw dataset',
  imageFiles: caseFiles,
  // Dataset-wide files carry no image's mask: 'image' keeps the manifest's per-image rows as they are.
  datasetFiles: (options) => [
    { file: `${nnunetDatasetFolder(options)}/dataset.json`, role: 'image' },
    { file: `${nnunetDatasetFolder(options)}/splits_final.json`, role: 'image' },
  ],
  render: async ({ mask, readImageGray8 }) => {
    let gray;
    try {
      gray = await readImageGray8();
    } catch (error) {
      return { reason: `image file unreadable: ${(error as Error).message}` };
    }
    if (gray.width !== mask.width || gray.height !== mask.height)
      return {
        reason: `image is ${gray.width}x${gray.height}, its mask ${mask.width}x${mask.height}`,
      };
    const labels = new Uint8Array(mask.binary.length);
    for (let i = 0; i < labels.length; i++) labels[i] = mask.binary[i] === 0 ? 0 : 1;
    return {
      data: [
        await encodePng(gray.data, gray.width, gray.height, 1),
        await encodePng(labels, mask.width, mask.height, 1),
      ],
    };
  },
  finish: async ({ holdOut, options, model, records }) => {
    const training = records.filter((record) => !isTest(record.image));
    const cases = training.map((record) => ({
      imageId: record.image.id,
      id: nnunetCase(record.names.stem),
    }));
    const held = holdOut ?? DEFAULT_HOLD_OUT;
    const fold = splitTrainVal(cases, held.valFraction, held.seed);
    const dataset = {
      name: options.datasetName,
      description: `QaTa Seg Workstation export: labels from source ${options.source}${model ? ` (model ${model})` : ''}; test split in imagesTs`,
      channel_names: { '0': 'X-ray' },
      labels: { background: 0, infection: 1 },
      numTraining: training.length,
      file_ending: '.png',
      overwrite_image_reader_writer: 'NaturalImage2DIO',
    };
    const splits = [
      {
        train: fold.train.map((entry) => entry.id),
        val: fold.val.map((entry) => entry.id),
      },
    ];
    return [`${JSON.stringify(dataset, null, 2)}\n`, `${JSON.stringify(splits, null, 2)}\n`];
  },
});
