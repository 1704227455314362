// countMultiplyAdds against figures published by others and against a model small enough to count
// by hand: torchvision's model cards give the MACs ("GFLOPS") of its ImageNet networks at 224 px.
import * as tf from '@tensorflow/tfjs';
import { selectBackend } from '@fer/shared/tfjs';
import { buildBackbone } from '../../src/backbones';
import { countMultiplyAdds } from '../../src/backbones/multiply-adds';
import { buildEnsemble } from '../../src/ensemble/ensemble-model';

/**
 * torchvision's weight metadata (`_ops` of ResNet18/50_Weights and DenseNet121_Weights.IMAGENET1K_V1
 * in models/resnet.py and densenet.py), GMACs at 224 px with 1000 classes, counting conv and linear
 * layers as we do. Its model cards print them rounded: 1.81, 4.09, 2.83 "GFLOPS".
 */
const TORCHVISION_GMACS: Record<string, number> = { resnet18: 1.814, resnet50: 4.089, densenet121: 2.834 };
/** torchvision rounds to 0.001 G: half of that relative to the smallest figure, plus float slack. */
const RELATIVE_TOLERANCE = 0.0005 / 1.814 + 1e-6;
/** Building resnet50 takes a few seconds on a busy 2-core machine (init 'zeros': no random draws). */
const BUILD_TIMEOUT_MS = 60_000;

beforeAll(async () => {
  await selectBackend('cpu');
});

test.each(Object.entries(TORCHVISION_GMACS))(
  "%s at 224 px counts torchvision's %s GMACs",
  (name, gmacs) => {
    const model = buildBackbone(name, { inputSize: 224, numClasses: 1000, seed: 1, init: 'zeros' });
    try {
      const counted = countMultiplyAdds(model) / 1e9;
      expect(Math.abs(counted - gmacs) / gmacs).toBeLessThan(RELATIVE_TOLERANCE);
    } finally {
      model.dispose();
    }
  },
  BUILD_TIMEOUT_MS,
);

/** 8x8x3 -> conv 3x3 'same' to 4 channels -> conv 1x1 stride 2 to 2 -> flatten -> dense 5. */
function handModel(): tf.LayersModel {
  const input = tf.input({ shape: [8, 8, 3] });
  const a = tf.layers.conv2d({ filters: 4, kernelSize: 3, padding: 'same' }).apply(input);
  const b = tf.layers.batchNormalization().apply(a);
  const c = tf.layers.conv2d({ filters: 2, kernelSize: 1, strides: 2 }).apply(b);
  const d = tf.layers.flatten().apply(c);
  const out = tf.layers.dense({ units: 5 }).apply(d) as tf.SymbolicTensor;
  return tf.model({ inputs: input, outputs: out });
}

// conv 3x3: 3·3·3·4 per output pixel, 8·8 pixels; conv 1x1: 1·4·2 per pixel, 4·4 pixels;
// dense: (4·4·2)·5; batch-norm and flatten: nothing.
const HAND_COUNT = 3 * 3 * 3 * 4 * 8 * 8 + 4 * 2 * 4 * 4 + 4 * 4 * 2 * 5;

test('a small model counts exactly what is computed by hand', () => {
  const model = handModel();
  expect(countMultiplyAdds(model)).toBe(HAND_COUNT);
  model.dispose();
});

test('a model nested as a layer counts once per application, and a mirrored ensemble twice per member', async () => {
  const inner = handModel();
  const input = tf.input({ shape: [8, 8, 3] });
  const twice = tf.model({
    inputs: input,
    outputs: tf.layers
      .add()
      .apply([inner.apply(input), inner.apply(input)] as tf.SymbolicTensor[]) as tf.SymbolicTensor,
  });
  expect(countMultiplyAdds(twice)).toBe(2 * HAND_COUNT);

  const member = buildBackbone('resnet-tiny', { inputSize: 32, numClasses: 6, seed: 1 });
  const single = countMultiplyAdds(member);
  const plain = await buildEnsemble([member, member], 'pair');
  const mirrored = await buildEnsemble([member, member], 'pair-mirror', { mirror: true });
  expect(countMultiplyAdds(plain)).toBe(2 * single);
  expect(countMultiplyAdds(mirrored)).toBe(4 * single);
  for (const m of [inner, member, plain, mirrored]) m.dispose();
});
