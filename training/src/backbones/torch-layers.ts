/**
 * The few layer patterns both backbones are made of, expressed in the agreed layer vocabulary
 * (ZeroPadding2D + 'valid' Conv2D/pooling, BatchNormalization, Activation) so that they compute
 * exactly what torch's modules compute and so that the ONNX exporter and the wasm training kernels
 * only ever meet standard tf.layers classes. Initializers follow torchvision's and are seeded.
 */
import * as tf from '@tensorflow/tfjs';
import { ONNX_DTYPE, ONNX_INPUT_NAME, ONNX_OUTPUT_NAME } from '@fer/shared';

type Symbolic = tf.SymbolicTensor;
/** tfjs-layers does not export its Initializer class from the package root. */
type Initializer = ReturnType<typeof tf.initializers.zeros>;

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
 * How a builder fills weights: 'torchvision' draws them as torchvision initialises its models;
 * 'zeros' leaves convolution kernels at zero, for a model whose backbone is about to be
 * overwritten by imported weights (drawing 58 M truncated normals costs seconds). The classifier
 * head is drawn in both modes, because transfer learning keeps it.
 */
export type BackboneInit = 'torchvision' | 'zeros';

/**
 * The seeded initializers of one build. Seeds are handed out one per weight in build order, so a
 * builder given a seed reproduces its weights exactly while every layer draws different numbers;
 * without a base seed every draw is fresh randomness.
 */
export class WeightInit {
  private next = 0;
  constructor(
    private readonly base: number | undefined,
    private readonly backbone: BackboneInit = 'torchvision',
  ) {}

  private takeSeed(): number | undefined {
    const index = this.next++;
    // Distinct, well-separated seeds for seedrandom; stays an exact integer for any sane layer count.
    return this.base === undefined ? undefined : this.base * 100_003 + index;
  }

  /** torch `kaiming_normal_(mode, nonlinearity='relu')`: N(0, 2 / fan). */
  convKernel(fanMode: 'fanIn' | 'fanOut'): Initializer {
    // Taken in both modes so that the head's seeds, and so its weights, do not depend on the mode.
    const seed = this.takeSeed();
    if (this.backbone === 'zeros') return tf.initializers.zeros();
    return tf.initializers.varianceScaling({
      scale: 2 / TRUNCATED_NORMAL_STD_FACTOR ** 2,
      mode: fanMode,
      distribution: 'normal',
      seed,
    });
  }

  /** torch.nn.Linear's default weight: kaiming_uniform(a=sqrt(5)) = U(-1/sqrt(fan_in), 1/sqrt(fan_in)). */
  denseKernel(): Initializer {
    return tf.initializers.varianceScaling({
      scale: 1 / 3,
      mode: 'fanIn',
      distribution: 'uniform',
      seed: this.takeSeed(),
    });
  }

  /** torch.nn.Linear's default bias U(-1/sqrt(fan_in), 1/sqrt(fan_in)), or torchvision DenseNet's zeros. */
  denseBias(kind: 'torch-default' | 'zeros', fanIn: number): Initializer {
    if (kind === 'zeros') return tf.initializers.zeros();
    const bound = 1 / Math.sqrt(fanIn);
    return tf.initializers.randomUniform({ minval: -bound, maxval: bound, seed: this.takeSeed() });
  }
}

/** What every builder takes besides its configuration. */
export interface BuildOptions {
  /** Side of the square NHWC input. */
  inputSize: number;
  /** Units of the new classifier head. */
  numClasses: number;
  /** Makes every drawn weight reproducible; omitted: fresh randomness. */
  seed?: number;
  /** 'zeros' skips drawing backbone weights that an import is about to overwrite (default 'torchvision'). */
  init?: BackboneInit;
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
export function conv2d(x: Symbolic, name: string, options: ConvOptions, init: WeightInit): Symbolic {
  const padded = zeroPad(x, options.padding ?? 0, `${name}.pad`);
  const layer = tf.layers.conv2d({
    name,
    filters: options.filters,
    kernelSize: options.kernelSize,
    strides: options.strides ?? 1,
    padding: 'valid',
    dataFormat: 'channelsLast',
    useBias: false,
    kernelInitializer: init.convKernel(options.fanMode),
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
  init: WeightInit,
): Symbolic {
  const pooled = tf.layers
    .globalAveragePooling2d({ name: names.pool, dataFormat: 'channelsLast' })
    .apply(x) as Symbolic;
  const fanIn = pooled.shape[pooled.shape.length - 1] as number;
  const kernelInitializer = init.denseKernel();
  const biasInitializer = init.denseBias(biasInit, fanIn);
  const logits = tf.layers
    .dense({ name: names.dense, units: numClasses, useBias: true, kernelInitializer, biasInitializer })
    .apply(pooled) as Symbolic;
  return tf.layers.activation({ name: ONNX_OUTPUT_NAME, activation: 'softmax' }).apply(logits) as Symbolic;
}

/** The NHWC image input every backbone starts from. */
export function imageInput(inputSize: number): Symbolic {
  if (!Number.isInteger(inputSize) || inputSize < 1) {
    throw new Error(`inputSize must be a positive integer, got ${inputSize}`);
  }
  return tf.input({ name: ONNX_INPUT_NAME, shape: [inputSize, inputSize, 3], dtype: ONNX_DTYPE });
}
