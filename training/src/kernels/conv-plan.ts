/**
 * Turns TF.js Conv2D attributes (any padding mode, NHWC) into a 'valid' convolution over an
 * explicitly padded input, the one shape the GEMM passes in conv-gemm.ts handle.
 */
import { backend_util } from '@tensorflow/tfjs';
import type { TensorInfo } from '@tensorflow/tfjs';

import type { ValidConv } from './conv-gemm';
import type { KernelScope } from './kernel-scope';

export interface ConvPlan {
  conv: ValidConv;
  /** Zero padding of the input: [[top, bottom], [left, right]]. */
  padding: [[number, number], [number, number]];
  /** NHWC shape of the unpadded input. */
  inShape: [number, number, number, number];
  /** NHWC shape of the output. */
  outShape: [number, number, number, number];
}

/** Attributes shared by Conv2D and its two gradients. */
export interface ConvAttrs {
  strides: number | [number, number];
  pad: 'valid' | 'same' | number | backend_util.ExplicitPadding;
  dataFormat: 'NHWC' | 'NCHW';
  dimRoundingMode?: 'floor' | 'round' | 'ceil';
  dilations?: number | [number, number];
}

/**
 * Plans a convolution, or returns null for what the GEMM passes do not cover (NCHW, dilation).
 *
 * @example planConv([8, 18, 18, 64], [3, 3, 64, 64], { strides: 1, pad: 'valid', dataFormat: 'NHWC' });
 */
export function planConv(
  inShape: readonly number[],
  filterShape: readonly number[],
  attrs: ConvAttrs,
): ConvPlan | null {
  const info = backend_util.computeConv2DInfo(
    inShape as [number, number, number, number],
    filterShape as [number, number, number, number],
    attrs.strides,
    attrs.dilations ?? 1,
    attrs.pad,
    attrs.dimRoundingMode,
    false,
    backend_util.convertConv2DDataFormat(attrs.dataFormat),
  );
  if (info.dataFormat !== 'channelsLast' || info.dilationHeight !== 1 || info.dilationWidth !== 1)
    return null;
  const { top, bottom, left, right } = info.padInfo;
  const conv: ValidConv = {
    batch: info.batchSize,
    inHeight: info.inHeight + top + bottom,
    inWidth: info.inWidth + left + right,
    inChannels: info.inChannels,
    filterHeight: info.filterHeight,
    filterWidth: info.filterWidth,
    outChannels: info.outChannels,
    strideHeight: info.strideHeight,
    strideWidth: info.strideWidth,
    outHeight: info.outHeight,
    outWidth: info.outWidth,
  };
  // A valid convolution over the padded input must read only padded rows; rounding modes
  // other than floor could ask for more, which we leave to the stock kernels.
  const lastRow = (conv.outHeight - 1) * conv.strideHeight + conv.filterHeight;
  const lastCol = (conv.outWidth - 1) * conv.strideWidth + conv.filterWidth;
  if (lastRow > conv.inHeight || lastCol > conv.inWidth) return null;
  return {
    conv,
    padding: [
      [top, bottom],
      [left, right],
    ],
    inShape: [info.batchSize, info.inHeight, info.inWidth, info.inChannels],
    outShape: [info.batchSize, info.outHeight, info.outWidth, info.outChannels],
  };
}

export function isPadded(plan: ConvPlan): boolean {
  return plan.padding.some(([before, after]) => before > 0 || after > 0);
}

/** The input zero-padded as the plan says (the input itself when there is no padding). */
export function padInput(scope: KernelScope, x: TensorInfo, plan: ConvPlan): TensorInfo {
  if (!isPadded(plan)) return x;
  return scope.run(
    'PadV2',
    { x },
    {
      paddings: [[0, 0], plan.padding[0], plan.padding[1], [0, 0]],
      constantValue: 0,
    },
  );
}
