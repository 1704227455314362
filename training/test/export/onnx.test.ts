// The exporter on small hand-made models: one in exactly the backbones' layer vocabulary, one with
// the generic extras (biases, activations, 'same' padding, Flatten, depthwise, unfolded batch norm).
import * as tf from '@tensorflow/tfjs';
import { onnx } from 'onnx-proto';
import { selectBackend } from '@fer/shared/tfjs';
import { exportSource, exportToOnnx, ONNX_OPSET, UnsupportedLayerError } from '../../src/export/onnx';
import {
  bothRuntimes,
  maxAbsDiff,
  ortSession,
  PARITY_TOLERANCE,
  randomInput,
  runOrt,
} from './parity-helpers';

type Sym = tf.SymbolicTensor;
const SIZE = 20;

/** Random but valid batch-norm statistics, so folding is checked against non-trivial values. */
function batchNorm(x: Sym, name: string, seed: number): Sym {
  return tf.layers
    .batchNormalization({
      name,
      epsilon: 1e-5,
      gammaInitializer: tf.initializers.randomUniform({ minval: 0.5, maxval: 1.5, seed }),
      betaInitializer: tf.initializers.randomNormal({ stddev: 0.2, seed: seed + 1 }),
      movingMeanInitializer: tf.initializers.randomNormal({ stddev: 0.2, seed: seed + 2 }),
      movingVarianceInitializer: tf.initializers.randomUniform({ minval: 0.5, maxval: 2, seed: seed + 3 }),
    })
    .apply(x) as Sym;
}

function pad(x: Sym, p: number, name: string): Sym {
  return tf.layers
    .zeroPadding2d({
      name,
      padding: [
        [p, p],
        [p, p],
      ],
    })
    .apply(x) as Sym;
}

function conv(x: Sym, name: string, filters: number, kernelSize: number, strides: number, seed: number): Sym {
  return tf.layers
    .conv2d({
      name,
      filters,
      kernelSize,
      strides,
      padding: 'valid',
      useBias: false,
      kernelInitializer: tf.initializers.heNormal({ seed }),
    })
    .apply(x) as Sym;
}

function relu(x: Sym, name: string): Sym {
  return tf.layers.activation({ name, activation: 'relu' }).apply(x) as Sym;
}

/** A miniature of both backbones in their exact layer vocabulary: stem, residual add, dense concat, transition, head. */
function vocabularyModel(): tf.LayersModel {
  const input = tf.input({ name: 'input', shape: [SIZE, SIZE, 3] });
  let x = relu(batchNorm(conv(pad(input, 3, 'conv1.pad'), 'conv1', 8, 7, 2, 1), 'bn1', 10), 'relu');
  x = tf.layers
    .maxPooling2d({ name: 'maxpool', poolSize: 3, strides: 2, padding: 'valid' })
    .apply(pad(x, 1, 'maxpool.pad')) as Sym;
  // Residual block.
  let y = relu(batchNorm(conv(pad(x, 1, 'b.conv1.pad'), 'b.conv1', 8, 3, 1, 2), 'b.bn1', 20), 'b.relu1');
  y = batchNorm(conv(pad(y, 1, 'b.conv2.pad'), 'b.conv2', 8, 3, 1, 3), 'b.bn2', 30);
  x = relu(tf.layers.add({ name: 'b.add' }).apply([x, y]) as Sym, 'b.relu2');
  // Dense layer: BN-ReLU-conv on the concatenation (pre-activation BN cannot fold).
  let z = relu(batchNorm(x, 'd.norm1', 40), 'd.relu1');
  z = conv(z, 'd.conv1', 8, 1, 1, 4);
  z = relu(batchNorm(z, 'd.norm2', 50), 'd.relu2');
  z = conv(pad(z, 1, 'd.conv2.pad'), 'd.conv2', 4, 3, 1, 5);
  x = tf.layers.concatenate({ name: 'd.cat', axis: -1 }).apply([x, z]) as Sym;
  // Transition.
  x = conv(relu(batchNorm(x, 't.norm', 60), 't.relu'), 't.conv', 6, 1, 1, 6);
  x = tf.layers
    .averagePooling2d({ name: 't.pool', poolSize: 2, strides: 2, padding: 'valid' })
    .apply(x) as Sym;
  x = tf.layers.globalAveragePooling2d({ name: 'avgpool' }).apply(x) as Sym;
  x = tf.layers
    .dense({
      name: 'fc',
      units: 6,
      kernelInitializer: tf.initializers.glorotUniform({ seed: 7 }),
      biasInitializer: tf.initializers.randomNormal({ seed: 8 }),
    })
    .apply(x) as Sym;
  const out = tf.layers.activation({ name: 'probabilities', activation: 'softmax' }).apply(x) as Sym;
  return tf.model({ inputs: input, outputs: out, name: 'vocabulary' });
}

/** The generic translations: biases, fused activations, 'same' padding, depthwise, Flatten, Dense->BN... */
function extrasModel(): tf.LayersModel {
  const seeded = (seed: number) => tf.initializers.glorotNormal({ seed });
  const input = tf.input({ name: 'image', shape: [SIZE, SIZE, 3] });
  let x = tf.layers
    .conv2d({
      name: 'c1',
      filters: 6,
      kernelSize: 3,
      strides: 2,
      padding: 'same',
      activation: 'relu6',
      kernelInitializer: seeded(1),
      biasInitializer: seeded(2),
    })
    .apply(input) as Sym;
  x = tf.layers
    .depthwiseConv2d({
      name: 'dw',
      kernelSize: 3,
      depthMultiplier: 2,
      padding: 'same',
      activation: 'tanh',
      depthwiseInitializer: seeded(3),
      biasInitializer: seeded(4),
    })
    .apply(x) as Sym;
  x = tf.layers
    .conv2d({
      name: 'dil',
      filters: 12,
      kernelSize: 3,
      dilationRate: 2,
      padding: 'same',
      activation: 'elu',
      kernelInitializer: seeded(5),
    })
    .apply(x) as Sym;
  const skip = tf.layers
    .conv2d({ name: 'skip', filters: 12, kernelSize: 1, activation: 'sigmoid', kernelInitializer: seeded(6) })
    .apply(x) as Sym;
  x = tf.layers.multiply({ name: 'gate' }).apply([x, skip]) as Sym;
  x = batchNorm(tf.layers.add({ name: 'sum' }).apply([x, skip]) as Sym, 'bn.unfolded', 70);
  x = tf.layers.leakyReLU({ name: 'leaky', alpha: 0.1 }).apply(x) as Sym;
  x = tf.layers
    .averagePooling2d({ name: 'ap.same', poolSize: 3, strides: 2, padding: 'same' })
    .apply(x) as Sym;
  x = tf.layers
    .averagePooling2d({ name: 'ap.padded', poolSize: 2, strides: 1 })
    .apply(pad(x, 1, 'ap.pad')) as Sym;
  x = tf.layers.maxPooling2d({ name: 'mp.same', poolSize: 2, strides: 2, padding: 'same' }).apply(x) as Sym;
  x = tf.layers.reLU({ name: 'relu.max', maxValue: 1.5 }).apply(x) as Sym;
  x = tf.layers.flatten({ name: 'flat' }).apply(x) as Sym;
  x = tf.layers.dropout({ name: 'drop', rate: 0.5 }).apply(x) as Sym;
  x = tf.layers.dense({ name: 'hidden', units: 10, kernelInitializer: seeded(9) }).apply(x) as Sym;
  x = batchNorm(x, 'bn.dense', 80);
  x = tf.layers
    .dense({ name: 'out', units: 5, activation: 'swish', kernelInitializer: seeded(10) })
    .apply(x) as Sym;
  const out = tf.layers.softmax({ name: 'softmax' }).apply(x) as Sym;
  return tf.model({ inputs: input, outputs: out, name: 'extras' });
}

function decode(bytes: Uint8Array): onnx.ModelProto {
  return onnx.ModelProto.decode(bytes);
}

function dims(info: onnx.IValueInfoProto): (number | string)[] {
  return (info.type?.tensorType?.shape?.dim ?? []).map((d) => (d.dimParam ? d.dimParam : Number(d.dimValue)));
}

beforeAll(async () => {
  await selectBackend();
});

describe('exportToOnnx on the backbone vocabulary', () => {
  let model: tf.LayersModel;
  let bytes: Uint8Array;
  beforeAll(() => {
    model = vocabularyModel();
    bytes = exportToOnnx(model).bytes;
  });
  afterAll(() => model.dispose());

  it.each([1, 5])('gives TF.js probabilities at batch %i', async (batch) => {
    const { onnx: got, tfjs } = await bothRuntimes(model, bytes, batch, batch);
    expect(got.dims).toEqual([batch, 6]);
    expect(maxAbsDiff(got.data, tfjs)).toBeLessThanOrEqual(PARITY_TOLERANCE);
  });

  it('has the registry interface: NHWC input with a dynamic batch, probabilities output, opset and source', () => {
    const proto = decode(bytes);
    const graph = proto.graph as onnx.GraphProto;
    expect(graph.input.map((i) => i.name)).toEqual(['input']);
    expect(dims(graph.input[0])).toEqual(['N', SIZE, SIZE, 3]);
    expect(graph.input[0].type?.tensorType?.elemType).toBe(onnx.TensorProto.DataType.FLOAT);
    expect(graph.output.map((o) => o.name)).toEqual(['probabilities']);
    expect(dims(graph.output[0])).toEqual(['N', 6]);
    expect(proto.opsetImport.map((o) => [o.domain, Number(o.version)])).toEqual([['', ONNX_OPSET]]);
    const metadata = Object.fromEntries(proto.metadataProps.map((p) => [p.key, p.value]));
    expect(metadata.source).toBe(exportSource());
    expect(exportSource()).toMatch(/^@tensorflow\/tfjs-layers@\d+\.\d+\.\d+$/);
  });

  it('folds conv batch norms and conv paddings, keeps the rest', () => {
    const ops = (decode(bytes).graph as onnx.GraphProto).node.map((n) => n.opType);
    const count = (op: string) => ops.filter((o) => o === op).length;
    // bn1, b.bn1, b.bn2, d.norm2 follow convolutions; d.norm1 and t.norm follow an add / a concat.
    expect(count('BatchNormalization')).toBe(2);
    // Only the max pool's zero padding stays a Pad (zeros are not -inf); conv paddings become pads.
    expect(count('Pad')).toBe(1);
    // NHWC -> NCHW once at the input; nothing transposes back before the 2-D head.
    expect(count('Transpose')).toBe(1);
    const { stats } = exportToOnnx(model);
    expect(stats).toMatchObject({ foldedBatchNorms: 4, foldedPaddings: 4 });
  });

  it('runs any batch size and rejects a wrong input shape with a clear error', async () => {
    const session = await ortSession(bytes);
    for (const batch of [2, 7]) {
      const x = randomInput(model, batch, 11);
      expect((await runOrt(session, x)).dims).toEqual([batch, 6]);
      x.dispose();
    }
    const wrongSize = tf.zeros([1, SIZE + 4, SIZE, 3]);
    await expect(runOrt(session, wrongSize)).rejects.toThrow(
      /invalid dimensions for input: input.*index: 1 Got: 24 Expected: 20/s,
    );
    const wrongRank = tf.zeros([SIZE, SIZE, 3]);
    await expect(runOrt(session, wrongRank)).rejects.toThrow(
      /invalid rank for input: input Got: 3 Expected: 4/i,
    );
    tf.dispose([wrongSize, wrongRank]);
    await session.release();
  });
});

describe('exportToOnnx beyond the vocabulary', () => {
  it.each([1, 5])(
    'translates biases, activations, same padding, depthwise, flatten at batch %i',
    async (batch) => {
      const model = extrasModel();
      const { bytes, stats } = exportToOnnx(model);
      expect(stats.foldedBatchNorms).toBe(1); // bn.dense into hidden; bn.unfolded follows an add
      const { onnx, tfjs } = await bothRuntimes(model, bytes, batch, 100 + batch);
      expect(maxAbsDiff(onnx.data, tfjs)).toBeLessThanOrEqual(PARITY_TOLERANCE);
      model.dispose();
    },
  );

  it('exports Sequential models', async () => {
    const model = tf.sequential({
      layers: [
        tf.layers.conv2d({
          inputShape: [8, 8, 1],
          filters: 2,
          kernelSize: 3,
          kernelInitializer: tf.initializers.glorotNormal({ seed: 1 }),
        }),
        tf.layers.flatten(),
        tf.layers.dense({
          units: 3,
          activation: 'softmax',
          kernelInitializer: tf.initializers.glorotNormal({ seed: 2 }),
        }),
      ],
    });
    const { onnx, tfjs } = await bothRuntimes(model, exportToOnnx(model).bytes, 2, 3);
    expect(maxAbsDiff(onnx.data, tfjs)).toBeLessThanOrEqual(PARITY_TOLERANCE);
    model.dispose();
  });

  it('names the layer and its class when it cannot translate it', () => {
    const input = tf.input({ shape: [4, 4, 3] });
    const x = tf.layers.layerNormalization({ name: 'ln' }).apply(input) as Sym;
    const model = tf.model({ inputs: input, outputs: x });
    expect(() => exportToOnnx(model)).toThrow(UnsupportedLayerError);
    expect(() => exportToOnnx(model)).toThrow(
      /layer "ln" \(LayerNormalization\).*no translation for LayerNormalization/,
    );
    model.dispose();
  });

  it('names the layer for an unsupported setting', () => {
    const input = tf.input({ shape: [4] });
    const x = tf.layers.dense({ name: 'head', units: 2, activation: 'gelu' }).apply(input) as Sym;
    const model = tf.model({ inputs: input, outputs: x });
    expect(() => exportToOnnx(model)).toThrow(/layer "head" \(Dense\).*activation 'gelu'/);
    model.dispose();
  });

  it('refuses opsets outside the supported range', () => {
    const model = tf.sequential({ layers: [tf.layers.dense({ inputShape: [2], units: 1 })] });
    expect(() => exportToOnnx(model, { opset: 9 })).toThrow(/opset 9 is not supported/);
    model.dispose();
  });
});
