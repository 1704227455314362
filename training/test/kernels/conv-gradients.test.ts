/**
 * Gradient parity of the wasm convolution kernels against the cpu backend on random inputs,
 * for every convolution configuration the backbone builders produce (collected from the built
 * models, so a new layer shape in a builder is tested automatically) and for the channel counts
 * of the real networks, which exercise the register-tile edges.
 */
import * as tf from '@tensorflow/tfjs';

import { buildBackbone } from '../../src/backbones';
import { selectTrainingBackend } from '../../src/backend';

/** Largest |wasm - cpu| relative to the largest |cpu| value of each output (issue #6). */
const RELATIVE_TOLERANCE = 1e-3;
const BATCH = 2;
/** cpu-backend convolutions on the larger configurations take a few seconds each. */
const TEST_TIMEOUT_MS = 60_000;

interface ConvCase {
  name: string;
  /** NHWC input shape without the batch. */
  input: [number, number, number];
  kernel: number;
  stride: number;
  outChannels: number;
  pad: 'valid' | 'same';
}

/** Reduced backbones: the full ones' topology (stem, blocks, downsampling) with few channels. */
const REDUCED_BACKBONES = ['resnet-tiny', 'resnet-tiny-bottleneck', 'densenet-tiny'];

/** Every distinct Conv2D geometry of a backbone. */
function builderCases(name: string): ConvCase[] {
  const cases = new Map<string, ConvCase>();
  const model = buildBackbone(name, { inputSize: 32, numClasses: 6, seed: 1 });
  {
    for (const layer of model.layers) {
      if (layer.getClassName() !== 'Conv2D') continue;
      const config = layer.getConfig() as {
        kernelSize: number[];
        strides: number[];
        padding: 'valid' | 'same';
        filters: number;
      };
      const [, h, w, c] = (layer.input as tf.SymbolicTensor).shape as number[];
      const item: ConvCase = {
        name: `${name} ${layer.name}`,
        input: [h, w, c],
        kernel: config.kernelSize[0],
        stride: config.strides[0],
        outChannels: config.filters,
        pad: config.padding,
      };
      const key = JSON.stringify([item.input, item.kernel, item.stride, item.outChannels, item.pad]);
      if (!cases.has(key)) cases.set(key, item);
    }
  }
  model.dispose();
  return [...cases.values()];
}

/**
 * Wider channel counts than the reduced backbones have: several K blocks in every pass (more than
 * 256 input or output channels), full and partial register tiles, the few-input-channel stem path,
 * and the padding modes the builders avoid. Spatial sizes stay small because the cpu backend's
 * gradient kernels are slow (about 0.4 µs per multiply-add). The 3x3 stride-1 cases with channel
 * counts divisible by 4 take the Winograd paths (with and without odd-size padding), the others
 * the direct ones.
 */
const WIDE_CASES: ConvCase[] = [
  { name: 'RGB stem 7x7/2', input: [14, 14, 3], kernel: 7, stride: 2, outChannels: 64, pad: 'valid' },
  { name: '3x3 with 64 channels', input: [5, 5, 64], kernel: 3, stride: 1, outChannels: 64, pad: 'valid' },
  { name: '3x3/2 widening', input: [6, 6, 64], kernel: 3, stride: 2, outChannels: 128, pad: 'valid' },
  { name: '1x1/2 downsample', input: [4, 4, 96], kernel: 1, stride: 2, outChannels: 200, pad: 'valid' },
  {
    name: '3x3 from 96 to 264 channels',
    input: [4, 4, 96],
    kernel: 3,
    stride: 1,
    outChannels: 264,
    pad: 'valid',
  },
  {
    name: 'DenseNet-style 1x1 over 600 channels',
    input: [3, 3, 600],
    kernel: 1,
    stride: 1,
    outChannels: 48,
    pad: 'valid',
  },
  { name: 'odd channels', input: [7, 9, 5], kernel: 3, stride: 1, outChannels: 6, pad: 'valid' },
  {
    name: '3x3 with odd output sizes',
    input: [11, 12, 8],
    kernel: 3,
    stride: 1,
    outChannels: 12,
    pad: 'valid',
  },
  { name: "'same' stride 1", input: [7, 8, 12], kernel: 3, stride: 1, outChannels: 20, pad: 'same' },
  { name: "'same' stride 2", input: [9, 8, 20], kernel: 3, stride: 2, outChannels: 12, pad: 'same' },
  {
    name: 'stride larger than kernel',
    input: [9, 11, 24],
    kernel: 2,
    stride: 3,
    outChannels: 8,
    pad: 'valid',
  },
];

function relativeError(actual: Float32Array, expected: Float32Array): number {
  let diff = 0;
  let scale = 0;
  for (let i = 0; i < expected.length; i++) {
    diff = Math.max(diff, Math.abs(actual[i] - expected[i]));
    scale = Math.max(scale, Math.abs(expected[i]));
  }
  return diff / scale;
}

/** Output, input gradient and filter gradient of the layers' convolution op on one backend. */
async function convPasses(backend: string, c: ConvCase): Promise<Float32Array[]> {
  await tf.setBackend(backend);
  return tf.tidy(() => {
    const x = tf.randomNormal([BATCH, ...c.input], 0, 1, 'float32', 11) as tf.Tensor4D;
    const filter = tf.randomNormal(
      [c.kernel, c.kernel, c.input[2], c.outChannels],
      0,
      0.1,
      'float32',
      12,
    ) as tf.Tensor4D;
    const conv = (a: tf.Tensor4D, f: tf.Tensor4D) =>
      tf.fused.conv2d({ x: a, filter: f, strides: c.stride, pad: c.pad });
    const y = conv(x, filter);
    const dy = tf.randomNormal(y.shape, 0, 1, 'float32', 13);
    const [dx, dw] = tf.grads((a: tf.Tensor, f: tf.Tensor) =>
      tf.sum(tf.mul(conv(a as tf.Tensor4D, f as tf.Tensor4D), dy)),
    )([x, filter]);
    return [y, dx, dw].map((t) => t.dataSync() as Float32Array);
  });
}

describe('wasm convolution kernels match the cpu backend', () => {
  beforeAll(async () => {
    await selectTrainingBackend('wasm');
  });

  /** Names of the passes whose relative error exceeds the tolerance. */
  async function mismatches(c: ConvCase): Promise<string[]> {
    const wasm = await convPasses('wasm', c);
    const cpu = await convPasses('cpu', c);
    await tf.setBackend('wasm');
    return ['output', 'dx', 'dW'].flatMap((label, i) => {
      const error = relativeError(wasm[i], cpu[i]);
      return error <= RELATIVE_TOLERANCE
        ? []
        : [`${c.name} ${label}: relative error ${error.toExponential(2)}`];
    });
  }

  it('the reduced backbones cover the stem, 3x3, strided and 1x1 convolutions', () => {
    const geometries = new Set(REDUCED_BACKBONES.flatMap(builderCases).map((c) => `${c.kernel}/${c.stride}`));
    for (const geometry of ['7/2', '3/1', '3/2', '1/1', '1/2']) expect(geometries).toContain(geometry);
  });

  it.each(REDUCED_BACKBONES)(
    'every convolution of %s',
    async (name) => {
      const failures: string[] = [];
      for (const c of builderCases(name)) failures.push(...(await mismatches(c)));
      expect(failures).toEqual([]);
    },
    TEST_TIMEOUT_MS,
  );

  it.each(WIDE_CASES.map((c) => [c.name, c] as const))(
    '%s',
    async (_name, c) => {
      expect(await mismatches(c)).toEqual([]);
    },
    TEST_TIMEOUT_MS,
  );
});
