/**
 * The backbone entry point for training, evaluation and export: resolve a backbone by name,
 * build it as a TF.js LayersModel, and import torchvision weights into it.
 */
import * as tf from '@tensorflow/tfjs';
import { ONNX_OUTPUT_NAME } from '@fer/shared';
import { type BackboneConfig, resolveBackbone } from './config';
import { buildDenseNet } from './densenet';
import { buildResNet } from './resnet';
import type { BuildOptions } from './torch-layers';

export * from './config';
export {
  BATCH_NORM_EPSILON,
  BATCH_NORM_MOMENTUM,
  type BackboneInit,
  type BuildOptions,
} from './torch-layers';

/**
 * The name of the linear layer that produces the logits (torchvision's head module).
 *
 * @example model.getLayer(headLayerName(resolveBackbone('densenet161'))) // the 'classifier' Dense layer
 */
export function headLayerName(config: BackboneConfig): 'fc' | 'classifier' {
  return config.family === 'resnet' ? 'fc' : 'classifier';
}

/** The name of the final softmax layer, the model output: the registry's ONNX output name. */
export const PROBABILITIES_LAYER = ONNX_OUTPUT_NAME;

/**
 * Builds a backbone with a fresh `numClasses` head, deterministic when `seed` is given.
 *
 * @example
 * const model = buildBackbone('densenet-tiny', { inputSize: 48, numClasses: 6, seed: 7 });
 * model.outputs[0].shape; // [null, 6]
 */
export function buildBackbone(config: string | BackboneConfig, options: BuildOptions): tf.LayersModel {
  const resolved = resolveBackbone(config);
  if (!Number.isInteger(options.numClasses) || options.numClasses < 1) {
    throw new Error(`numClasses must be a positive integer, got ${options.numClasses}`);
  }
  return resolved.family === 'resnet' ? buildResNet(resolved, options) : buildDenseNet(resolved, options);
}

/** BatchNorm running statistics are weights in TF.js but buffers, not parameters, in torch. */
const BATCH_NORM_STATISTICS = ['/moving_mean', '/moving_variance'];

function isBatchNormStatistic(weight: tf.LayerVariable): boolean {
  return BATCH_NORM_STATISTICS.some((suffix) => weight.originalName.endsWith(suffix));
}

function scalars(weights: readonly tf.LayerVariable[]): number {
  // Weight shapes are always fully known; a null dimension would be a bug, so it counts as 0.
  return weights.reduce((sum, weight) => sum + weight.shape.reduce((a: number, b) => a * (b ?? 0), 1), 0);
}

/**
 * Number of parameters as torch counts them, `sum(p.numel() for p in model.parameters())`: every
 * weight except BatchNorm running statistics, whether or not a layer is currently frozen.
 *
 * @example countParameters(buildBackbone('resnet152', { inputSize: 224, numClasses: 6 })); // 58_156_102
 */
export function countParameters(model: tf.LayersModel): number {
  return scalars(model.weights.filter((weight) => !isBatchNormStatistic(weight)));
}

/**
 * Number of scalars in all weights, BatchNorm running statistics included (what a checkpoint stores).
 *
 * @example countAllWeights(buildBackbone('resnet-tiny', { inputSize: 48, numClasses: 6 }));
 */
export function countAllWeights(model: tf.LayersModel): number {
  return scalars(model.weights);
}
export * from './weights';
