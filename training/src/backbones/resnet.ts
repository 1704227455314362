/**
 * ResNet in TF.js layers with torchvision's exact topology and module names
 * (torchvision/models/resnet.py): 7x7/2 stem, 3x3/2 max-pool, four stages, stride on the 3x3
 * convolution of a Bottleneck ("ResNet v1.5"), a 1x1 conv + BN shortcut where shape changes.
 */
import * as tf from '@tensorflow/tfjs';
import type { ResNetConfig } from './config';
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

const EXPANSION = { basic: 1, bottleneck: 4 } as const;

/** torchvision initialises ResNet convolutions with kaiming_normal_(mode='fan_out'). */
const FAN_MODE = 'fanOut';

function basicBlock(
  x: Symbolic,
  prefix: string,
  planes: number,
  stride: number,
  shortcut: (x: Symbolic) => Symbolic,
  init: WeightInit,
): Symbolic {
  let y = conv2d(
    x,
    `${prefix}.conv1`,
    { filters: planes, kernelSize: 3, strides: stride, padding: 1, fanMode: FAN_MODE },
    init,
  );
  y = relu(batchNorm(y, `${prefix}.bn1`), `${prefix}.relu1`);
  y = conv2d(y, `${prefix}.conv2`, { filters: planes, kernelSize: 3, padding: 1, fanMode: FAN_MODE }, init);
  y = batchNorm(y, `${prefix}.bn2`);
  const sum = tf.layers.add({ name: `${prefix}.add` }).apply([y, shortcut(x)]) as Symbolic;
  return relu(sum, `${prefix}.relu2`);
}

function bottleneckBlock(
  x: Symbolic,
  prefix: string,
  planes: number,
  stride: number,
  shortcut: (x: Symbolic) => Symbolic,
  init: WeightInit,
): Symbolic {
  let y = conv2d(x, `${prefix}.conv1`, { filters: planes, kernelSize: 1, fanMode: FAN_MODE }, init);
  y = relu(batchNorm(y, `${prefix}.bn1`), `${prefix}.relu1`);
  y = conv2d(
    y,
    `${prefix}.conv2`,
    { filters: planes, kernelSize: 3, strides: stride, padding: 1, fanMode: FAN_MODE },
    init,
  );
  y = relu(batchNorm(y, `${prefix}.bn2`), `${prefix}.relu2`);
  y = conv2d(
    y,
    `${prefix}.conv3`,
    { filters: planes * EXPANSION.bottleneck, kernelSize: 1, fanMode: FAN_MODE },
    init,
  );
  y = batchNorm(y, `${prefix}.bn3`);
  const sum = tf.layers.add({ name: `${prefix}.add` }).apply([y, shortcut(x)]) as Symbolic;
  return relu(sum, `${prefix}.relu3`);
}

/**
 * Builds a ResNet classifier: input `input` [null, S, S, 3] -> ... -> `fc` (logits) -> `probabilities`.
 *
 * @example const model = buildResNet(BACKBONES.resnet152 as ResNetConfig, { inputSize: 224, numClasses: 6, seed: 1 });
 */
export function buildResNet(config: ResNetConfig, options: BuildOptions): tf.LayersModel {
  const init = new WeightInit(options.seed, options.init);
  const input = imageInput(options.inputSize);
  let x = conv2d(
    input,
    'conv1',
    { filters: config.stemWidth, kernelSize: 7, strides: 2, padding: 3, fanMode: FAN_MODE },
    init,
  );
  x = relu(batchNorm(x, 'bn1'), 'relu');
  x = maxPoolAfterRelu(x, 'maxpool', { poolSize: 3, strides: 2, padding: 1 });

  const expansion = EXPANSION[config.block];
  const block = config.block === 'basic' ? basicBlock : bottleneckBlock;
  let inplanes = config.stemWidth;
  config.layers.forEach((blocks, stage) => {
    const planes = config.widths[stage];
    for (let index = 0; index < blocks; index++) {
      const prefix = `layer${stage + 1}.${index}`;
      const stride = index === 0 && stage > 0 ? 2 : 1;
      const outChannels = planes * expansion;
      const shortcut =
        stride !== 1 || inplanes !== outChannels
          ? (input: Symbolic) =>
              batchNorm(
                conv2d(
                  input,
                  `${prefix}.downsample.0`,
                  { filters: outChannels, kernelSize: 1, strides: stride, fanMode: FAN_MODE },
                  init,
                ),
                `${prefix}.downsample.1`,
              )
          : (input: Symbolic) => input;
      x = block(x, prefix, planes, stride, shortcut, init);
      inplanes = outChannels;
    }
  });

  const output = classifierHead(
    x,
    { pool: 'avgpool', dense: 'fc' },
    options.numClasses,
    'torch-default',
    init,
  );
  return tf.model({ name: config.name, inputs: input, outputs: output });
}
