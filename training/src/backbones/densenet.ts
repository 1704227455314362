/**
 * DenseNet-BC in TF.js layers with torchvision's exact topology and module names
 * (torchvision/models/densenet.py): 7x7/2 stem + 3x3/2 max-pool, dense blocks of
 * BN-ReLU-1x1conv-BN-ReLU-3x3conv layers whose outputs are concatenated after their input,
 * transitions that halve the channels and average-pool 2x2, then norm5, ReLU and global pooling.
 */
import * as tf from '@tensorflow/tfjs';
import type { DenseNetConfig } from './config';
import {
  type BuildOptions,
  batchNorm,
  classifierHead,
  conv2d,
  imageInput,
  maxPoolAfterRelu,
  relu,
  WeightInit,
} from './torch-layers';

type Symbolic = tf.SymbolicTensor;

/** torchvision initialises DenseNet convolutions with kaiming_normal_ (default mode fan_in). */
const FAN_MODE = 'fanIn';

function denseLayer(x: Symbolic, prefix: string, config: DenseNetConfig, init: WeightInit): Symbolic {
  let y = relu(batchNorm(x, `${prefix}.norm1`), `${prefix}.relu1`);
  y = conv2d(
    y,
    `${prefix}.conv1`,
    { filters: config.bnSize * config.growthRate, kernelSize: 1, fanMode: FAN_MODE },
    init,
  );
  y = relu(batchNorm(y, `${prefix}.norm2`), `${prefix}.relu2`);
  y = conv2d(
    y,
    `${prefix}.conv2`,
    { filters: config.growthRate, kernelSize: 3, padding: 1, fanMode: FAN_MODE },
    init,
  );
  // torchvision concatenates [block input, layer1 out, layer2 out, ...] along channels; appending
  // each new output to the running concatenation gives the same channel order.
  return tf.layers.concatenate({ name: `${prefix}.concat`, axis: -1 }).apply([x, y]) as Symbolic;
}

function transition(x: Symbolic, prefix: string, outChannels: number, init: WeightInit): Symbolic {
  let y = relu(batchNorm(x, `${prefix}.norm`), `${prefix}.relu`);
  y = conv2d(y, `${prefix}.conv`, { filters: outChannels, kernelSize: 1, fanMode: FAN_MODE }, init);
  // torch AvgPool2d(2, 2): no padding, floor mode, like TF.js 'valid'.
  return tf.layers
    .averagePooling2d({ name: `${prefix}.pool`, poolSize: 2, strides: 2, padding: 'valid' })
    .apply(y) as Symbolic;
}

/**
 * Builds a DenseNet classifier: input `input` [null, S, S, 3] -> `features.*` -> `classifier`
 * (logits) -> `probabilities`.
 *
 * @example const model = buildDenseNet(BACKBONES.densenet161 as DenseNetConfig, { inputSize: 224, numClasses: 6 });
 */
export function buildDenseNet(config: DenseNetConfig, options: BuildOptions): tf.LayersModel {
  const init = new WeightInit(options.seed, options.init);
  const input = imageInput(options.inputSize);
  let x = conv2d(
    input,
    'features.conv0',
    { filters: config.initFeatures, kernelSize: 7, strides: 2, padding: 3, fanMode: FAN_MODE },
    init,
  );
  x = relu(batchNorm(x, 'features.norm0'), 'features.relu0');
  x = maxPoolAfterRelu(x, 'features.pool0', { poolSize: 3, strides: 2, padding: 1 });

  let channels = config.initFeatures;
  config.blockConfig.forEach((numLayers, blockIndex) => {
    for (let layer = 0; layer < numLayers; layer++) {
      x = denseLayer(x, `features.denseblock${blockIndex + 1}.denselayer${layer + 1}`, config, init);
    }
    channels += numLayers * config.growthRate;
    if (blockIndex !== config.blockConfig.length - 1) {
      channels = Math.floor(channels / 2);
      x = transition(x, `features.transition${blockIndex + 1}`, channels, init);
    }
  });
  x = batchNorm(x, 'features.norm5');
  // torchvision applies F.relu after `features` in DenseNet.forward, not as a module.
  x = relu(x, 'features.relu5');

  const output = classifierHead(
    x,
    { pool: 'avgpool', dense: 'classifier' },
    options.numClasses,
    'zeros',
    init,
  );
  return tf.model({ name: config.name, inputs: input, outputs: output });
}
