// Builders on the reduced configurations: the layer vocabulary other components rely on
// (ONNX export, wasm kernels), torchvision's module names, and seeded determinism.
import * as tf from '@tensorflow/tfjs';
import { selectBackend } from '@fer/shared/tfjs';
import {
  BACKBONE_NAMES,
  BACKBONES,
  BATCH_NORM_EPSILON,
  buildBackbone,
  headLayerName,
  PROBABILITIES_LAYER,
  resolveBackbone,
  type BackboneConfig,
} from '../../src/backbones';

const REDUCED = ['resnet-tiny', 'resnet-tiny-bottleneck', 'densenet-tiny'] as const;
const INPUT_SIZE = 40;
const NUM_CLASSES = 6;

const ALLOWED_CLASSES = new Set([
  'InputLayer',
  'ZeroPadding2D',
  'Conv2D',
  'BatchNormalization',
  'Activation',
  'MaxPooling2D',
  'AveragePooling2D',
  'Add',
  'Concatenate',
  'GlobalAveragePooling2D',
  'Dense',
]);

beforeAll(async () => {
  await selectBackend('cpu');
});

function weightsOf(model: tf.LayersModel): Float32Array[] {
  return model.getWeights().map((weight) => weight.dataSync() as Float32Array);
}

describe('resolveBackbone', () => {
  it('returns the torchvision configurations by name', () => {
    expect(resolveBackbone('resnet152')).toMatchObject({ block: 'bottleneck', layers: [3, 8, 36, 3] });
    expect(resolveBackbone('densenet161')).toMatchObject({ growthRate: 48, blockConfig: [6, 12, 36, 24] });
  });

  it('names the valid backbones when the name is unknown', () => {
    expect(() => resolveBackbone('resnet153')).toThrow(
      /Unknown backbone "resnet153".*resnet152.*densenet161/,
    );
    expect(() => resolveBackbone('toString')).toThrow(/Unknown backbone "toString"/);
  });

  it('rejects a configuration with the problem named', () => {
    const bad = { ...BACKBONES['resnet-tiny'], layers: [1, 0, 1, 1] } as BackboneConfig;
    expect(() => resolveBackbone(bad)).toThrow(/layers must hold positive integers/);
  });

  it('lists the torchvision depths and the reduced ones', () => {
    for (const name of ['resnet18', 'resnet34', 'resnet50', 'resnet101', 'resnet152', 'densenet121']) {
      expect(BACKBONE_NAMES).toContain(name);
    }
    for (const name of [...REDUCED, 'densenet161', 'densenet169', 'densenet201', 'resnet-small']) {
      expect(BACKBONE_NAMES).toContain(name);
    }
  });
});

describe.each(REDUCED)('%s', (name) => {
  const config = resolveBackbone(name);
  let model: tf.LayersModel;

  beforeAll(() => {
    model = buildBackbone(name, { inputSize: INPUT_SIZE, numClasses: NUM_CLASSES, seed: 3 });
  });
  afterAll(() => model.dispose());

  it('takes NHWC images named input and ends in a softmax named probabilities after the torchvision head', () => {
    expect(model.inputs).toHaveLength(1);
    expect(model.inputLayers[0].name).toBe('input');
    expect(model.inputs[0].shape).toEqual([null, INPUT_SIZE, INPUT_SIZE, 3]);
    expect(model.outputs[0].shape).toEqual([null, NUM_CLASSES]);
    const last = model.layers[model.layers.length - 1];
    expect(last.name).toBe(PROBABILITIES_LAYER);
    expect(last.getConfig().activation).toBe('softmax');
    const head = model.getLayer(headLayerName(config));
    expect(head.getClassName()).toBe('Dense');
    expect(head.getConfig()).toMatchObject({ units: NUM_CLASSES, activation: 'linear', useBias: true });
  });

  it('uses only the agreed layer vocabulary with torch-equivalent settings', () => {
    for (const layer of model.layers) {
      const className = layer.getClassName();
      expect(ALLOWED_CLASSES.has(className) ? className : `${layer.name}: ${className}`).toBe(className);
      const layerConfig = layer.getConfig();
      if (className === 'Conv2D') {
        expect(layerConfig).toMatchObject({
          padding: 'valid',
          useBias: false,
          activation: 'linear',
          dataFormat: 'channelsLast',
          dilationRate: [1, 1],
        });
      } else if (className === 'BatchNormalization') {
        expect(layerConfig).toMatchObject({ axis: -1, epsilon: BATCH_NORM_EPSILON, momentum: 0.9 });
      } else if (className === 'MaxPooling2D' || className === 'AveragePooling2D') {
        expect(layerConfig.padding).toBe('valid');
      } else if (className === 'Activation') {
        expect(['relu', 'softmax']).toContain(layerConfig.activation);
      } else if (className === 'Concatenate') {
        expect(layerConfig.axis).toBe(-1);
      }
    }
  });

  it('is deterministic given a seed and differs across seeds', () => {
    const again = buildBackbone(name, { inputSize: INPUT_SIZE, numClasses: NUM_CLASSES, seed: 3 });
    const other = buildBackbone(name, { inputSize: INPUT_SIZE, numClasses: NUM_CLASSES, seed: 4 });
    const reference = weightsOf(model);
    expect(weightsOf(again)).toEqual(reference);
    const differing = weightsOf(other).filter((values, index) =>
      values.some((v, i) => v !== reference[index][i]),
    );
    // Every convolution and the classifier kernel are drawn from the seed (BN starts at constants).
    const convAndHead = model.layers.filter((layer) => ['Conv2D', 'Dense'].includes(layer.getClassName()));
    expect(differing.length).toBeGreaterThanOrEqual(convAndHead.length);
    again.dispose();
    other.dispose();
  });
});

describe('initialisation', () => {
  /** Sample standard deviations of >100k draws are within a few percent of the true one. */
  const STD_RELATIVE_TOLERANCE = 0.05;

  function std(values: Float32Array): number {
    const mean = values.reduce((a, b) => a + b, 0) / values.length;
    return Math.sqrt(values.reduce((a, b) => a + (b - mean) ** 2, 0) / values.length);
  }

  it.each([
    // torchvision: ResNet kaiming_normal_(fan_out), DenseNet kaiming_normal_(fan_in), untruncated spread.
    ['resnet-small', 'layer4.1.conv2', 128 * 3 * 3],
    ['densenet-small', 'features.transition3.conv', 0],
  ])('%s draws %s like torchvision (std sqrt(2 / fan))', (name, layerName, fanOut) => {
    const model = buildBackbone(name, { inputSize: INPUT_SIZE, numClasses: NUM_CLASSES, seed: 5 });
    const kernel = model.getLayer(layerName).getWeights()[0];
    const [kh, kw, inChannels] = kernel.shape;
    const fan = fanOut || kh * kw * inChannels;
    const actual = std(kernel.dataSync() as Float32Array);
    expect(Math.abs(actual / Math.sqrt(2 / fan) - 1)).toBeLessThan(STD_RELATIVE_TOLERANCE);
    model.dispose();
  });

  it("init 'zeros' leaves kernels at zero and draws the same head as the default", () => {
    const options = { inputSize: INPUT_SIZE, numClasses: NUM_CLASSES, seed: 9 };
    const drawn = buildBackbone('resnet-tiny', options);
    const zeros = buildBackbone('resnet-tiny', { ...options, init: 'zeros' });
    const kernel = zeros.getLayer('layer2.0.conv1').getWeights()[0].dataSync();
    expect(kernel.every((v) => v === 0)).toBe(true);
    const drawnHead = drawn
      .getLayer('fc')
      .getWeights()
      .map((w) => w.dataSync());
    expect(
      zeros
        .getLayer('fc')
        .getWeights()
        .map((w) => w.dataSync()),
    ).toEqual(drawnHead);
    expect(drawnHead[0].some((v) => v !== 0)).toBe(true);
    drawn.dispose();
    zeros.dispose();
  });
});

describe('torchvision module names', () => {
  it('mirror resnet paths, with derived names for padding, relu and add', () => {
    const model = buildBackbone('resnet-tiny-bottleneck', { inputSize: INPUT_SIZE, numClasses: 2 });
    const names = model.layers.map((layer) => layer.name);
    expect(names.slice(0, 7)).toEqual([
      'input',
      'conv1.pad',
      'conv1',
      'bn1',
      'relu',
      'maxpool.pad',
      'maxpool',
    ]);
    for (const name of [
      'layer1.0.conv1',
      'layer1.0.bn3',
      'layer1.0.conv2.pad',
      'layer1.0.downsample.0',
      'layer1.0.downsample.1',
      'layer1.0.add',
      'layer1.0.relu3',
      'layer4.0.downsample.0',
      'avgpool',
      'fc',
    ]) {
      expect(names).toContain(name);
    }
    model.dispose();
  });

  it('mirror densenet paths, ending in norm5, relu, pooling, classifier', () => {
    const model = buildBackbone('densenet-tiny', { inputSize: INPUT_SIZE, numClasses: 2 });
    const names = model.layers.map((layer) => layer.name);
    for (const name of [
      'features.conv0',
      'features.norm0',
      'features.pool0',
      'features.denseblock1.denselayer1.norm1',
      'features.denseblock1.denselayer2.conv2',
      'features.transition3.conv',
      'features.transition3.pool',
      'features.denseblock4.denselayer2.concat',
    ]) {
      expect(names).toContain(name);
    }
    expect(names).not.toContain('features.transition4.conv');
    expect(names.slice(-5)).toEqual([
      'features.norm5',
      'features.relu5',
      'avgpool',
      'classifier',
      'probabilities',
    ]);
    model.dispose();
  });
});
