/** Shared geometry of the conv training kernels: NHWC only, from tfjs' own conv info. */
import { backend_util } from '@tensorflow/tfjs';

export type Pad4 = [[number, number], [number, number], [number, number], [number, number]];

export interface ConvGeometry {
  batch: number;
  inHeight: number;
  inWidth: number;
  inChannels: number;
  outHeight: number;
  outWidth: number;
  outChannels: number;
  filterHeight: number;
  filterWidth: number;
  strideHeight: number;
  strideWidth: number;
  padTop: number;
  padBottom: number;
  padLeft: number;
  padRight: number;
  channelsLast: boolean;
}

export function convGeometry(
  xShape: [number, number, number, number],
  filterShape: [number, number, number, number],
  strides: [number, number] | number,
  pad: backend_util.ExplicitPadding | 'valid' | 'same' | number,
  dimRoundingMode: 'floor' | 'round' | 'ceil' | undefined,
  dataFormat: 'NHWC' | 'NCHW' | undefined,
): ConvGeometry {
  const format = backend_util.convertConv2DDataFormat(dataFormat ?? 'NHWC');
  const info = backend_util.computeConv2DInfo(
    xShape,
    filterShape,
    strides,
    1,
    pad,
    dimRoundingMode,
    false,
    format,
  );
  return {
    batch: info.batchSize,
    inHeight: info.inHeight,
    inWidth: info.inWidth,
    inChannels: info.inChannels,
    outHeight: info.outHeight,
    outWidth: info.outWidth,
    outChannels: info.outChannels,
    filterHeight: info.filterHeight,
    filterWidth: info.filterWidth,
    strideHeight: info.strideHeight,
    strideWidth: info.strideWidth,
    padTop: info.padInfo.top,
    padBottom: info.padInfo.bottom,
    padLeft: info.padInfo.left,
    padRight: info.padInfo.right,
    channelsLast: info.dataFormat === 'channelsLast',
  };
}

/**
 * True when the filter tiles the input exactly: kernel == stride, no padding, no remainder. Then
 * every output pixel touches its own patch and the conv is a single matmul plus a reshuffle.
 */
export function isPatchwise(g: ConvGeometry): boolean {
  return (
    g.filterHeight === g.strideHeight &&
    g.filterWidth === g.strideWidth &&
    g.padTop === 0 &&
    g.padBottom === 0 &&
    g.padLeft === 0 &&
    g.padRight === 0 &&
    g.inHeight === g.outHeight * g.strideHeight &&
    g.inWidth === g.outWidth * g.strideWidth
  );
}
