/**
 * The PNG mask reader: 0/255 or 0/1 masks (any non-zero value is foreground) and 8- or 16-bit
 * probability maps. Dataset masks may come in any format an image decoder reads (a JPEG, a TIFF),
 * so beside the `.png` name it claims any bytes an image decoder knows.
 */
import { decodeBinaryMask } from './mask-decode';
import { findImageDecoder, imageDecoderFor, registerMaskReader, type MaskRead } from './registry';

/** A probability map as 0..255 (16-bit files scaled down). */
async function readProbability(bytes: Buffer): Promise<MaskRead> {
  const gray = await imageDecoderFor(bytes).decode(bytes);
  const values = new Uint8Array(gray.data.length);
  let max = 0;
  let foreground = 0;
  for (let i = 0; i < values.length; i++) {
    values[i] = gray.bitDepth === 16 ? Math.round(gray.data[i] / 257) : gray.data[i];
    max = Math.max(max, gray.data[i]);
    if (values[i] > 0) foreground++;
  }
  return {
    values,
    width: gray.width,
    height: gray.height,
    foreground,
    cleanValues: max <= 1,
    oneValued: max === 1,
    warning:
      max === 1 ? 'a probability map whose values are all 0 or 1: is it a 0/1 mask?' : undefined,
  };
}

registerMaskReader({
  id: 'png',
  label: 'PNG',
  pairing: 'name',
  extensions: ['.png'],
  sniff: (bytes) => findImageDecoder(bytes) !== null,
  async read(bytes, options = {}) {
    if (options.probability) return readProbability(bytes);
    const mask = await decodeBinaryMask(bytes, options);
    return {
      values: mask.data,
      width: mask.width,
      height: mask.height,
      foreground: mask.foreground,
      cleanValues: mask.cleanValues,
      oneValued: mask.oneValued,
      warning: mask.cleanValues
        ? undefined
        : 'values other than 0/1 or 0/255; binarised with > 0 as foreground',
    };
  },
});
