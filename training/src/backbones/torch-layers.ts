/**
 * The few layer patterns both backbones are made of, expressed in the agreed layer vocabulary
 * (ZeroPadding2D + 'valid' Conv2D/pooling, BatchNormalization, Activation) so that they compute
 * exactly what torch's modules compute and so that the ONNX exporter and the wasm training kernels
 * only ever meet standard tf.layers classes. Initializers follow torchvision's and are seeded.
 */
import * as tf from '@tensorflow/tfjs';

type Symbolic = tf.SymbolicTensor;

/** torch.nn.BatchNorm2d defaults. TF.js momentum is the weight of the old statistic: 1 - torch's 0.1. */
export const BATCH_NORM_EPSILON = 1e-5;
export const BATCH_NORM_MOMENTUM = 0.9;

/**
 * TF.js draws "normal" variance-scaling weights from a normal truncated at two standard deviations,
 * which shrinks the spread to 0.8796 of the requested one. Dividing the scale by its square gives
 * the same standard deviation as torch's untruncated `kaiming_normal_`.
 */
const TRUNCATED_NORMAL_STD_FACTOR = 0.8796256610342398;

/**
 * Hands out one initializer seed per weight in build order, so that a builder given a seed
 * reproduces its weights exactly while every layer still draws different numbers.
 * Without a base seed every draw is unseeded (fresh randomness).
 */
export class SeedSequence {
  private next = 0;
  constructor(private readonly base: number | undefined) {}

  take(): number | undefined {
    if (this.base === undefined) return undefined;
    // Distinct, well-separated seeds for seedrandom; stays an exact integer for any sane layer count.
    return this.base * 100_003 + this.next++;
  }
}

export interface ConvOptions {
  filters: number;
  kernelSize: number;
  strides?: number;
  /** Symmetric zero padding on each spatial side, like torch's `padding=`. */
  padding?: number;
  /** torchvision's `kaiming_normal_` mode: ResNet uses fan_out, DenseNet fan_in. */
  fanMode: 'fanIn' | 'fanOut';
}

/** Symmetric padding as its own layer: TF.js 'same' would pad stride-2 convolutions asymmetrically. */
export function zeroPad(x: Symbolic, padding: number, name: string): Symbolic {
  if (padding === 0) return x;
  const layer = tf.layers.zeroPadding2d({
    name,
    padding: [
      [padding, padding],
      [padding, padding],
    ],
    dataFormat: 'channelsLast',
  });
  return layer.apply(x) as Symbolic;
}

/** torch `Conv2d(bias=False)` named `name`; its padding layer is `${name}.pad`. */
export function conv2d(x: Symbolic, name: string, options: ConvOptions, seeds: SeedSequence): Symbolic {
  const padded = zeroPad(x, options.padding ?? 0, `${name}.pad`);
  const layer = tf.layers.conv2d({
    name,
    filters: options.filters,
    kernelSize: options.kernelSize,
    strides: options.strides ?? 1,
    padding: 'valid',
    dataFormat: 'channelsLast',
    useBias: false,
    kernelInitializer: tf.initializers.varianceScaling({
      scale: 2 / TRUNCATED_NORMAL_STD_FACTOR ** 2,
      mode: options.fanMode,
      distribution: 'normal',
      seed: seeds.take(),
    }),
  });
  return layer.apply(padded) as Symbolic;
}

/** torch `BatchNorm2d` over the channel (last) axis; torchvision initialises gamma 1, beta 0. */
export function batchNorm(x: Symbolic, name: string): Symbolic {
  const layer = tf.layers.batchNormalization({
    name,
    axis: -1,
    epsilon: BATCH_NORM_EPSILON,
    momentum: BATCH_NORM_MOMENTUM,
  });
  return layer.apply(x) as Symbolic;
}

export function relu(x: Symbolic, name: string): Symbolic {
  return tf.layers.activation({ name, activation: 'relu' }).apply(x) as Symbolic;
}

/**
 * torch `MaxPool2d(kernel, stride, padding)`. torch pads with -inf; we pad with zeros, which gives
 * the same result only because every caller pools the output of a ReLU (all values >= 0, and each
 * window holds at least one real value), so a zero never exceeds the window's maximum.
 */
export function maxPoolAfterRelu(
  x: Symbolic,
  name: string,
  options: { poolSize: number; strides: number; padding: number },
): Symbolic {
  const padded = zeroPad(x, options.padding, `${name}.pad`);
  const layer = tf.layers.maxPooling2d({
    name,
    poolSize: options.poolSize,
    strides: options.strides,
    padding: 'valid',
    dataFormat: 'channelsLast',
  });
  return layer.apply(padded) as Symbolic;
}

/**
 * The classifier head: global average pooling (torch's adaptive_avg_pool2d to 1x1 + flatten),
 * a linear layer named like torchvision's (`fc` / `classifier`) that produces the logits, and a
 * softmax layer named `probabilities`, the model output.
 */
export function classifierHead(
  x: Symbolic,
  names: { pool: string; dense: string },
  numClasses: number,
  biasInit: 'torch-default' | 'zeros',
  seeds: SeedSequence,
): Symbolic {
  const pooled = tf.layers
    .globalAveragePooling2d({ name: names.pool, dataFormat: 'channelsLast' })
    .apply(x) as Symbolic;
  const fanIn = pooled.shape[pooled.shape.length - 1] as number;
  // torch.nn.Linear's default: kaiming_uniform(a=sqrt(5)) = U(-1/sqrt(fan_in), 1/sqrt(fan_in)).
  const bound = 1 / Math.sqrt(fanIn);
  const kernelInitializer = tf.initializers.varianceScaling({
    scale: 1 / 3,
    mode: 'fanIn',
    distribution: 'uniform',
    seed: seeds.take(),
  });
  const biasInitializer =
    biasInit === 'zeros'
      ? tf.initializers.zeros()
      : tf.initializers.randomUniform({ minval: -bound, maxval: bound, seed: seeds.take() });
  const logits = tf.layers
    .dense({ name: names.dense, units: numClasses, useBias: true, kernelInitializer, biasInitializer })
    .apply(pooled) as Symbolic;
  return tf.layers.activation({ name: 'probabilities', activation: 'softmax' }).apply(logits) as Symbolic;
}

/** The NHWC image input every backbone starts from. */
export function imageInput(inputSize: number): Symbolic {
  if (!Number.isInteger(inputSize) || inputSize < 1) {
    throw new Error(`inputSize must be a positive integer, got ${inputSize}`);
  }
  return tf.input({ name: 'input', shape: [inputSize, inputSize, 3], dtype: 'float32' });
}
