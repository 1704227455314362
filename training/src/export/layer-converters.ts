/**
 * One translation per TF.js layer class, from the layer's config and weights to ONNX nodes. This is
 * the vocabulary our backbones are built from (ZeroPadding2D, Conv2D, BatchNormalization,
 * Activation, pooling, Add, Concatenate, GlobalAveragePooling2D, Dense), the ensembles' Average
 * and HorizontalFlip, the calibrated versions' LogitTemperature and ProbabilityTemperature, plus the few neighbours that cost a line each (Flatten, DepthwiseConv2D,
 * ReLU/LeakyReLU/ELU/Softmax layers, dropouts). A converter runs once per application of a layer;
 * a shared layer's weights are stored once (OnnxGraph keeps one copy of a repeated initializer).
 */
import type * as tf from '@tensorflow/tfjs';
import { attr, type AttributeValue, type OnnxGraph } from './onnx-graph';
import type { FusionPlan } from './fusion-plan';
import { layoutAxis, type Layout, type ValueTable } from './value-table';
import { batchNormScaleShift, foldIntoKernel, hwioToOihw, samePadding } from './weight-math';

type Layer = tf.layers.Layer;

/** A layer (or one of its settings) the exporter has no exact translation for. */
export class UnsupportedLayerError extends Error {
  constructor(
    readonly layerName: string,
    readonly className: string,
    detail: string,
  ) {
    super(`Cannot export layer "${layerName}" (${className}) to ONNX: ${detail}`);
    this.name = 'UnsupportedLayerError';
  }
}

export interface LayerContext {
  layer: Layer;
  config: Record<string, unknown>;
  inputs: tf.SymbolicTensor[];
  outputs: tf.SymbolicTensor[];
  graph: OnnxGraph;
  values: ValueTable;
  plan: FusionPlan;
}

export type LayerConverter = (ctx: LayerContext) => void;

function fail(ctx: LayerContext, detail: string): never {
  throw new UnsupportedLayerError(ctx.layer.name, ctx.layer.getClassName(), detail);
}

/** The layer's weights as float32 arrays with their shapes, in the layer's own weight order. */
function weightsOf(layer: Layer): { data: Float32Array; shape: number[] }[] {
  return layer.getWeights().map((w) => {
    if (w.dtype !== 'float32')
      throw new UnsupportedLayerError(layer.name, layer.getClassName(), `${w.dtype} weights`);
    return { data: w.dataSync() as Float32Array, shape: w.shape };
  });
}

function pair(ctx: LayerContext, key: string, fallback?: [number, number]): [number, number] {
  const value = ctx.config[key] ?? fallback;
  if (typeof value === 'number') return [value, value];
  if (Array.isArray(value) && value.length === 2 && value.every((v) => typeof v === 'number')) {
    return [value[0], value[1]];
  }
  return fail(ctx, `cannot read ${key} = ${JSON.stringify(value)} as two numbers`);
}

function requireChannelsLast(ctx: LayerContext): void {
  const format = ctx.config.dataFormat;
  if (format !== undefined && format !== 'channelsLast')
    fail(ctx, `dataFormat ${String(format)} is not supported`);
}

/** Spatial [height, width] of a 4-D NHWC tensor, which must be static. */
function spatial(ctx: LayerContext, tensor: tf.SymbolicTensor): [number, number] {
  const [, h, w] = tensor.shape;
  if (tensor.shape.length !== 4 || typeof h !== 'number' || typeof w !== 'number') {
    return fail(ctx, `needs a 4-D input with a static size, got [${tensor.shape.join(', ')}]`);
  }
  return [h, w];
}

/** ONNX pads [top, left, bottom, right] for padding 'valid' or 'same' (TF's rule). */
function paddingPads(
  ctx: LayerContext,
  input: tf.SymbolicTensor,
  kernel: [number, number],
  strides: [number, number],
  dilations: [number, number],
): number[] {
  const padding = ctx.config.padding;
  if (padding === 'valid') return [0, 0, 0, 0];
  if (padding !== 'same') return fail(ctx, `padding '${String(padding)}' is not supported`);
  const [h, w] = spatial(ctx, input);
  const [top, bottom] = samePadding(h, kernel[0], strides[0], dilations[0]);
  const [left, right] = samePadding(w, kernel[1], strides[1], dilations[1]);
  return [top, left, bottom, right];
}

const SELU_ALPHA = 1.6732632423543772;
const SELU_GAMMA = 1.0507009873554805;

/**
 * Applies a TF.js activation (by its serialized name) to `input`; returns the value holding the
 * result. `axis` is where the Keras last axis lives in the current layout (for softmax).
 */
function activation(ctx: LayerContext, kind: string, input: string, axis: number, name: string): string {
  const g = ctx.graph;
  const unary = (op: string, attributes: Record<string, AttributeValue> = {}): string =>
    g.node(op, [input], { name, attributes })[0];
  switch (kind) {
    case 'linear':
      return input;
    case 'relu':
      return unary('Relu');
    case 'relu6':
      return g.node(
        'Clip',
        [
          input,
          g.floatTensor(`${name}.min`, [], new Float32Array([0])),
          g.floatTensor(`${name}.max`, [], new Float32Array([6])),
        ],
        { name },
      )[0];
    case 'sigmoid':
      return unary('Sigmoid');
    case 'tanh':
      return unary('Tanh');
    case 'softmax':
      return unary('Softmax', { axis: attr.int(axis) });
    case 'logSoftmax':
      return unary('LogSoftmax', { axis: attr.int(axis) });
    case 'elu':
      return unary('Elu', { alpha: attr.float(1) });
    case 'selu':
      return unary('Selu', { alpha: attr.float(SELU_ALPHA), gamma: attr.float(SELU_GAMMA) });
    case 'softplus':
      return unary('Softplus');
    case 'softsign':
      return unary('Softsign');
    case 'hardSigmoid':
      // TF.js: clip(0.2 x + 0.5, 0, 1), ONNX HardSigmoid's defaults.
      return unary('HardSigmoid', { alpha: attr.float(0.2), beta: attr.float(0.5) });
    case 'swish': {
      const [sig] = g.node('Sigmoid', [input], { name: `${name}.sigmoid` });
      return g.node('Mul', [input, sig], { name })[0];
    }
    case 'mish': {
      const [sp] = g.node('Softplus', [input], { name: `${name}.softplus` });
      const [th] = g.node('Tanh', [sp], { name: `${name}.tanh` });
      return g.node('Mul', [input, th], { name })[0];
    }
    default:
      return fail(ctx, `activation '${kind}' is not supported`);
  }
}

function activationName(ctx: LayerContext): string {
  const value = ctx.config.activation ?? 'linear';
  if (typeof value !== 'string') return fail(ctx, `cannot read activation ${JSON.stringify(value)}`);
  return value;
}

/** Reads a BatchNormalization layer's parameters in TF.js's weight order (gamma, beta, mean, variance). */
function batchNormParams(bn: Layer) {
  const cfg = bn.getConfig() as { scale?: boolean; center?: boolean; epsilon?: number };
  const weights = weightsOf(bn).map((w) => w.data);
  const gamma = cfg.scale === false ? null : (weights.shift() as Float32Array);
  const beta = cfg.center === false ? null : (weights.shift() as Float32Array);
  const [movingMean, movingVariance] = weights;
  return { gamma, beta, movingMean, movingVariance, epsilon: cfg.epsilon ?? 1e-3 };
}

/** Where a layer's result goes: its own output, or the output of the batch norm folded into it. */
function resultTensor(ctx: LayerContext): { tensor: tf.SymbolicTensor; name: string; bn: Layer | undefined } {
  const bn = ctx.plan.batchNormInto.get(ctx.layer.name);
  // A shared layer's application k feeds the batch norm's application that reads its output.
  const node = bn?.inboundNodes.find((n) => n.inputTensors[0].id === ctx.outputs[0].id);
  if (bn && node) return { tensor: node.outputTensors[0], name: bn.name, bn };
  return { tensor: ctx.outputs[0], name: ctx.layer.name, bn: undefined };
}

function convolution(ctx: LayerContext, depthwise: boolean): void {
  requireChannelsLast(ctx);
  const [x] = ctx.inputs;
  const deferred = ctx.values.deferredPadding(x);
  const source = deferred ? deferred.source : x;
  const kernelSize = pair(ctx, 'kernelSize');
  const strides = pair(ctx, 'strides', [1, 1]);
  const dilations = pair(ctx, 'dilationRate', [1, 1]);
  const pads = paddingPads(ctx, x, kernelSize, strides, dilations);
  if (deferred) {
    const [top, bottom, left, right] = deferred.pads;
    pads[0] += top;
    pads[1] += left;
    pads[2] += bottom;
    pads[3] += right;
  }
  const weights = weightsOf(ctx.layer);
  const [kh, kw, cin, m] = weights[0].shape;
  // A depthwise kernel [kh, kw, in, mult] is a grouped conv with one input channel per group and
  // output channel i * mult + j: the same memory as HWIO with I = 1, O = in * mult.
  const hwio: [number, number, number, number] = depthwise ? [kh, kw, 1, cin * m] : [kh, kw, cin, m];
  let kernel = weights[0].data;
  let bias: Float32Array | null = ctx.config.useBias === false ? null : weights[1].data;
  const out = resultTensor(ctx);
  if (out.bn) ({ kernel, bias } = foldIntoKernel(kernel, bias, batchNormScaleShift(batchNormParams(out.bn))));
  const base = ctx.layer.name;
  const inputs = [
    ctx.values.get(source, 'nchw'),
    ctx.graph.floatTensor(`${base}.weight`, [hwio[3], hwio[2], kh, kw], hwioToOihw(kernel, hwio)),
  ];
  if (bias) inputs.push(ctx.graph.floatTensor(`${base}.bias`, [hwio[3]], bias));
  const act = activationName(ctx);
  const [conv] = ctx.graph.node('Conv', inputs, {
    name: act === 'linear' ? out.name : `${out.name}.conv`,
    attributes: {
      kernel_shape: attr.ints(kernelSize),
      strides: attr.ints(strides),
      dilations: attr.ints(dilations),
      pads: attr.ints(pads),
      group: attr.int(depthwise ? cin : 1),
    },
  });
  ctx.values.define(out.tensor, 'nchw', activation(ctx, act, conv, 1, out.name));
}

function dense(ctx: LayerContext): void {
  const [x] = ctx.inputs;
  const rank = x.shape.length;
  const weights = weightsOf(ctx.layer);
  const [cin, units] = weights[0].shape;
  let kernel = weights[0].data;
  let bias: Float32Array | null = ctx.config.useBias === false ? null : weights[1].data;
  const out = resultTensor(ctx);
  if (out.bn) ({ kernel, bias } = foldIntoKernel(kernel, bias, batchNormScaleShift(batchNormParams(out.bn))));
  const g = ctx.graph;
  const act = activationName(ctx);
  const linearName = act === 'linear' ? out.name : `${out.name}.linear`;
  const input = ctx.values.get(x, 'keras');
  const w = g.floatTensor(`${ctx.layer.name}.weight`, [cin, units], kernel);
  let y: string;
  if (rank === 2) {
    const inputs = bias ? [input, w, g.floatTensor(`${ctx.layer.name}.bias`, [units], bias)] : [input, w];
    [y] = g.node('Gemm', inputs, { name: linearName });
  } else if (bias) {
    // Dense on a higher-rank tensor acts on the last axis, which MatMul broadcasts over.
    const [mm] = g.node('MatMul', [input, w], { name: `${out.name}.matmul` });
    [y] = g.node('Add', [mm, g.floatTensor(`${ctx.layer.name}.bias`, [units], bias)], { name: linearName });
  } else {
    [y] = g.node('MatMul', [input, w], { name: linearName });
  }
  ctx.values.define(out.tensor, 'keras', activation(ctx, act, y, -1, out.name));
}

function batchNormalization(ctx: LayerContext): void {
  const [x] = ctx.inputs;
  const rank = x.shape.length;
  const axis = ctx.config.axis as number;
  if (!(axis === -1 || axis === rank - 1) || (rank !== 4 && rank !== 2)) {
    fail(
      ctx,
      `only the channel (last) axis of a 2-D or 4-D input is supported, got axis ${axis} of rank ${rank}`,
    );
  }
  const p = batchNormParams(ctx.layer);
  const channels = p.movingMean.length;
  const layout: Layout = rank === 4 ? 'nchw' : 'keras';
  const g = ctx.graph;
  const base = ctx.layer.name;
  const [y] = g.node(
    'BatchNormalization',
    [
      ctx.values.get(x, layout),
      g.floatTensor(`${base}.gamma`, [channels], p.gamma ?? new Float32Array(channels).fill(1)),
      g.floatTensor(`${base}.beta`, [channels], p.beta ?? new Float32Array(channels)),
      g.floatTensor(`${base}.moving_mean`, [channels], p.movingMean),
      g.floatTensor(`${base}.moving_variance`, [channels], p.movingVariance),
    ],
    { name: base, attributes: { epsilon: attr.float(p.epsilon) } },
  );
  ctx.values.define(ctx.outputs[0], layout, y);
}

function zeroPadding(ctx: LayerContext): void {
  requireChannelsLast(ctx);
  const padding = ctx.config.padding;
  const ok =
    Array.isArray(padding) &&
    padding.length === 2 &&
    padding.every((p) => Array.isArray(p) && p.length === 2 && p.every((v) => Number.isInteger(v) && v >= 0));
  if (!ok) fail(ctx, `cannot read padding ${JSON.stringify(padding)}`);
  const [[top, bottom], [left, right]] = padding as [[number, number], [number, number]];
  const [x] = ctx.inputs;
  if (ctx.plan.paddingFolded.has(ctx.layer.name)) {
    ctx.values.defer(ctx.outputs[0], { source: x, pads: [top, bottom, left, right] });
    return;
  }
  const g = ctx.graph;
  const pads = g.int64Tensor(`${ctx.layer.name}.pads`, [0, 0, top, left, 0, 0, bottom, right]);
  const [y] = g.node('Pad', [ctx.values.get(x, 'nchw'), pads], {
    name: ctx.layer.name,
    attributes: { mode: attr.string('constant') },
  });
  ctx.values.define(ctx.outputs[0], 'nchw', y);
}

function pooling(ctx: LayerContext, op: 'MaxPool' | 'AveragePool'): void {
  requireChannelsLast(ctx);
  const [x] = ctx.inputs;
  const deferred = ctx.values.deferredPadding(x);
  const source = deferred ? deferred.source : x;
  const poolSize = pair(ctx, 'poolSize');
  const strides = pair(ctx, 'strides', poolSize);
  const pads = paddingPads(ctx, x, poolSize, strides, [1, 1]);
  const attributes: Record<string, AttributeValue> = {
    kernel_shape: attr.ints(poolSize),
    strides: attr.ints(strides),
  };
  if (deferred) {
    // Only valid average pools take a deferred padding (fusion plan): zeros count in the mean.
    const [top, bottom, left, right] = deferred.pads;
    attributes.pads = attr.ints([top, left, bottom, right]);
    attributes.count_include_pad = attr.int(1);
  } else {
    // TF excludes 'same' padding from averages and maxima: ONNX's defaults do too.
    attributes.pads = attr.ints(pads);
  }
  const [y] = ctx.graph.node(op, [ctx.values.get(source, 'nchw')], { name: ctx.layer.name, attributes });
  ctx.values.define(ctx.outputs[0], 'nchw', y);
}

function globalPooling(ctx: LayerContext, op: 'GlobalAveragePool' | 'GlobalMaxPool'): void {
  requireChannelsLast(ctx);
  const [x] = ctx.inputs;
  spatial(ctx, x);
  const keepDims = ctx.outputs[0].shape.length === 4;
  const g = ctx.graph;
  const [pooled] = g.node(op, [ctx.values.get(x, 'nchw')], {
    name: keepDims ? ctx.layer.name : `${ctx.layer.name}.pool`,
  });
  if (keepDims) {
    ctx.values.define(ctx.outputs[0], 'nchw', pooled);
    return;
  }
  const [flat] = g.node('Flatten', [pooled], { name: ctx.layer.name, attributes: { axis: attr.int(1) } });
  ctx.values.define(ctx.outputs[0], 'keras', flat);
}

function flatten(ctx: LayerContext): void {
  const [x] = ctx.inputs;
  if (x.shape.length <= 2) {
    ctx.values.alias(ctx.outputs[0], x);
    return;
  }
  // Keras flattens in NHWC order, so the data must be in Keras layout first.
  const [y] = ctx.graph.node('Flatten', [ctx.values.get(x, 'keras')], {
    name: ctx.layer.name,
    attributes: { axis: attr.int(1) },
  });
  ctx.values.define(ctx.outputs[0], 'keras', y);
}

/** An element-wise layer: computed in whichever layout its input already has. */
function elementwise(ctx: LayerContext, apply: (input: string, layout: Layout) => string): void {
  const [x] = ctx.inputs;
  const layout = ctx.values.preferredLayout([x]);
  ctx.values.define(ctx.outputs[0], layout, apply(ctx.values.get(x, layout), layout));
}

function lastAxis(ctx: LayerContext, layout: Layout): number {
  return layoutAxis(-1, ctx.inputs[0].shape.length, layout);
}

function activationLayer(ctx: LayerContext): void {
  elementwise(ctx, (input, layout) =>
    activation(ctx, activationName(ctx), input, lastAxis(ctx, layout), ctx.layer.name),
  );
}

function reluLayer(ctx: LayerContext): void {
  const maxValue = ctx.config.maxValue;
  elementwise(ctx, (input) => {
    if (maxValue === null || maxValue === undefined)
      return activation(ctx, 'relu', input, -1, ctx.layer.name);
    const g = ctx.graph;
    const min = g.floatTensor(`${ctx.layer.name}.min`, [], new Float32Array([0]));
    const max = g.floatTensor(`${ctx.layer.name}.max`, [], new Float32Array([Number(maxValue)]));
    return g.node('Clip', [input, min, max], { name: ctx.layer.name })[0];
  });
}

function leakyReluLayer(ctx: LayerContext): void {
  const alpha = Number(ctx.config.alpha ?? 0.3);
  elementwise(
    ctx,
    (input) =>
      ctx.graph.node('LeakyRelu', [input], {
        name: ctx.layer.name,
        attributes: { alpha: attr.float(alpha) },
      })[0],
  );
}

function eluLayer(ctx: LayerContext): void {
  const alpha = Number(ctx.config.alpha ?? 1);
  elementwise(
    ctx,
    (input) =>
      ctx.graph.node('Elu', [input], { name: ctx.layer.name, attributes: { alpha: attr.float(alpha) } })[0],
  );
}

function softmaxLayer(ctx: LayerContext): void {
  const axis = Number(ctx.config.axis ?? -1);
  elementwise(
    ctx,
    (input, layout) =>
      ctx.graph.node('Softmax', [input], {
        name: ctx.layer.name,
        attributes: { axis: attr.int(layoutAxis(axis, ctx.inputs[0].shape.length, layout)) },
      })[0],
  );
}

/** A merge of same-shaped inputs (Add, Multiply...) by an n-ary or chained binary ONNX op. */
function merge(ctx: LayerContext, op: string, chain: boolean): void {
  const rank = ctx.inputs[0].shape.length;
  if (ctx.inputs.some((t) => t.shape.length !== rank))
    fail(ctx, 'inputs of different ranks are not supported');
  const layout = ctx.values.preferredLayout(ctx.inputs);
  const names = ctx.inputs.map((t) => ctx.values.get(t, layout));
  const g = ctx.graph;
  let y: string;
  if (chain) {
    y = names[0];
    for (let i = 1; i < names.length; i++) {
      [y] = g.node(op, [y, names[i]], {
        name: i === names.length - 1 ? ctx.layer.name : `${ctx.layer.name}.${i}`,
      });
    }
  } else {
    [y] = g.node(op, names, { name: ctx.layer.name });
  }
  ctx.values.define(ctx.outputs[0], layout, y);
}

function concatenate(ctx: LayerContext): void {
  const rank = ctx.inputs[0].shape.length;
  const layout = ctx.values.preferredLayout(ctx.inputs);
  const axis = layoutAxis(Number(ctx.config.axis ?? -1), rank, layout);
  const names = ctx.inputs.map((t) => ctx.values.get(t, layout));
  const [y] = ctx.graph.node('Concat', names, { name: ctx.layer.name, attributes: { axis: attr.int(axis) } });
  ctx.values.define(ctx.outputs[0], layout, y);
}

/** Mirrors NHWC images left to right: a Gather of the width axis in reverse order. */
function horizontalFlip(ctx: LayerContext): void {
  const [x] = ctx.inputs;
  const [, width] = spatial(ctx, x);
  const layout = ctx.values.preferredLayout([x]);
  const reversed = ctx.graph.int64Tensor(
    `${ctx.layer.name}.indices`,
    Array.from({ length: width }, (_, i) => width - 1 - i),
  );
  const [y] = ctx.graph.node('Gather', [ctx.values.get(x, layout), reversed], {
    name: ctx.layer.name,
    attributes: { axis: attr.int(layoutAxis(2, 4, layout)) },
  });
  ctx.values.define(ctx.outputs[0], layout, y);
}

/** A temperature layer's T as an initializer: a scalar, or one value per class (last axis). */
function temperatureTensor(ctx: LayerContext): string {
  const [x] = ctx.inputs;
  const classes = x.shape[x.shape.length - 1];
  const t = ctx.config.temperature;
  if (
    x.shape.length !== 2 ||
    !Array.isArray(t) ||
    !t.every((v) => typeof v === 'number' && v > 0) ||
    (t.length !== 1 && t.length !== classes)
  ) {
    fail(
      ctx,
      `needs a [batch, classes] input and 1 or ${String(classes)} positive temperatures, got ${JSON.stringify(t)}`,
    );
  }
  const values = Float32Array.from(t as number[]);
  return ctx.graph.floatTensor(
    `${ctx.layer.name}.temperature`,
    values.length === 1 ? [] : [values.length],
    values,
  );
}

/** A temperature layer's bias as an initializer [classes], or null when it has none. */
function biasTensor(ctx: LayerContext): string | null {
  const [x] = ctx.inputs;
  const classes = x.shape[x.shape.length - 1];
  const b = ctx.config.bias;
  if (b === undefined || b === null) return null;
  if (
    !Array.isArray(b) ||
    b.length !== classes ||
    !b.every((v) => typeof v === 'number' && Number.isFinite(v))
  )
    fail(ctx, `needs ${String(classes)} finite biases, got ${JSON.stringify(b)}`);
  return ctx.graph.floatTensor(`${ctx.layer.name}.bias`, [b.length], Float32Array.from(b as number[]));
}

/**
 * scores / T (Div, as TF.js computes it, so both round alike), then + bias (Add) when the layer
 * has one; the last node carries `name`.
 */
function scaledScores(ctx: LayerContext, scores: string, name: string): string {
  const t = temperatureTensor(ctx);
  const bias = biasTensor(ctx);
  const [divided] = ctx.graph.node('Div', [scores, t], { name: bias ? `${name}.divided` : name });
  if (!bias) return divided;
  const [shifted] = ctx.graph.node('Add', [divided, bias], { name });
  return shifted;
}

/** logits / T + bias. */
function logitTemperature(ctx: LayerContext): void {
  const y = scaledScores(ctx, ctx.values.get(ctx.inputs[0], 'keras'), ctx.layer.name);
  ctx.values.define(ctx.outputs[0], 'keras', y);
}

/** softmax(ln p / T + bias) over the classes. */
function probabilityTemperature(ctx: LayerContext): void {
  const g = ctx.graph;
  const name = ctx.layer.name;
  const [log] = g.node('Log', [ctx.values.get(ctx.inputs[0], 'keras')], { name: `${name}.log` });
  const scaled = scaledScores(ctx, log, `${name}.scaled`);
  const [y] = g.node('Softmax', [scaled], { name, attributes: { axis: attr.int(-1) } });
  ctx.values.define(ctx.outputs[0], 'keras', y);
}

function identity(ctx: LayerContext): void {
  ctx.values.alias(ctx.outputs[0], ctx.inputs[0]);
}

/** Every supported TF.js layer class by its `getClassName()`. */
export const LAYER_CONVERTERS: Readonly<Record<string, LayerConverter>> = {
  Conv2D: (ctx) => convolution(ctx, false),
  DepthwiseConv2D: (ctx) => convolution(ctx, true),
  Dense: dense,
  BatchNormalization: batchNormalization,
  ZeroPadding2D: zeroPadding,
  MaxPooling2D: (ctx) => pooling(ctx, 'MaxPool'),
  AveragePooling2D: (ctx) => pooling(ctx, 'AveragePool'),
  GlobalAveragePooling2D: (ctx) => globalPooling(ctx, 'GlobalAveragePool'),
  GlobalMaxPooling2D: (ctx) => globalPooling(ctx, 'GlobalMaxPool'),
  Flatten: flatten,
  Activation: activationLayer,
  ReLU: reluLayer,
  LeakyReLU: leakyReluLayer,
  ELU: eluLayer,
  Softmax: softmaxLayer,
  Add: (ctx) => merge(ctx, 'Add', true),
  Multiply: (ctx) => merge(ctx, 'Mul', true),
  Maximum: (ctx) => merge(ctx, 'Max', false),
  Minimum: (ctx) => merge(ctx, 'Min', false),
  Average: (ctx) => merge(ctx, 'Mean', false),
  Concatenate: concatenate,
  HorizontalFlip: horizontalFlip,
  LogitTemperature: logitTemperature,
  ProbabilityTemperature: probabilityTemperature,
  // Inference-time identities.
  Dropout: identity,
  SpatialDropout1D: identity,
  GaussianNoise: identity,
  GaussianDropout: identity,
  AlphaDropout: identity,
};
