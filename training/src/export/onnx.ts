/**
 * A trained TF.js LayersModel -> an ONNX model (DESIGN §3: `model.onnx`), which the service runs
 * with onnxruntime by default. No TF.js -> ONNX converter exists in JavaScript, so this walks the
 * layer graph and translates each layer (layer-converters.ts) into an NCHW-inside graph with the
 * registry's interface (@fer/shared's onnx-contract.ts): input `input` float32 NHWC [N,S,S,3] with
 * a dynamic batch N, output `probabilities` [N,classes]. Building the bytes is pure; writing them
 * is the caller's one line.
 */
import { mkdir, writeFile } from 'node:fs/promises';
import path from 'node:path';
import * as tf from '@tensorflow/tfjs';
import {
  ONNX_BATCH_DIM,
  ONNX_DTYPE,
  ONNX_INPUT_LAYOUT,
  ONNX_INPUT_NAME,
  ONNX_OUTPUT_NAME,
} from '@fer/shared';
import { planFusions } from './fusion-plan';
import { LAYER_CONVERTERS, UnsupportedLayerError } from './layer-converters';
import { type Dim, OnnxGraph } from './onnx-graph';
import { ValueTable } from './value-table';

type Layer = tf.layers.Layer;

export { UnsupportedLayerError } from './layer-converters';

/** The opset we write: supported by every onnxruntime of the last years and by Triton. */
export const ONNX_OPSET = 17;
/** The range of opsets whose semantics the translations rely on (single-axis Softmax from 13). */
export const MIN_ONNX_OPSET = 13;
export const MAX_ONNX_OPSET = 21;

const PRODUCER_NAME = '@fer/training onnx exporter';
const PRODUCER_VERSION = '1';

export interface OnnxExportOptions {
  opset?: number;
  inputName?: string;
  outputName?: string;
}

/** What a version's metadata.json records under `export`. */
export interface OnnxExportInfo {
  onnx_opset: number;
  source: string;
}

export interface OnnxExport {
  /** The serialized ModelProto. */
  bytes: Uint8Array;
  export: OnnxExportInfo;
  inputName: string;
  outputName: string;
  inputShape: Dim[];
  outputShape: Dim[];
  /** What the translation did, for logs and tests. */
  stats: { nodes: number; initializers: number; foldedBatchNorms: number; foldedPaddings: number };
}

/** The `source` recorded in the ONNX metadata and metadata.json: the library that defined the model. */
export function exportSource(): string {
  return `@tensorflow/tfjs-layers@${tf.version_layers}`;
}

function staticShape(shape: readonly (number | null)[], what: string): Dim[] {
  return shape.map((d, i) => {
    if (i === 0) return ONNX_BATCH_DIM;
    if (d === null)
      throw new Error(`the model's ${what} has a dynamic dimension ${i}; only the batch may be dynamic`);
    return d;
  });
}

/**
 * Translates `model` into ONNX protobuf bytes.
 *
 * @example
 * const { bytes, export: info } = exportToOnnx(model); // info: { onnx_opset: 17, source: '@tensorflow/tfjs-layers@4.22.0' }
 * @throws UnsupportedLayerError naming the first layer (and class) without an exact translation.
 */
export function exportToOnnx(model: tf.LayersModel, options: OnnxExportOptions = {}): OnnxExport {
  const opset = options.opset ?? ONNX_OPSET;
  if (!Number.isInteger(opset) || opset < MIN_ONNX_OPSET || opset > MAX_ONNX_OPSET) {
    throw new RangeError(`opset ${opset} is not supported; use ${MIN_ONNX_OPSET}..${MAX_ONNX_OPSET}`);
  }
  const inputName = options.inputName ?? ONNX_INPUT_NAME;
  const outputName = options.outputName ?? ONNX_OUTPUT_NAME;
  if (model.inputs.length !== 1 || model.outputs.length !== 1) {
    throw new Error(
      `the exporter needs one input and one output, the model has ${model.inputs.length} and ${model.outputs.length}`,
    );
  }
  const [input] = model.inputs;
  const [output] = model.outputs;
  if (input.dtype !== ONNX_DTYPE)
    throw new Error(`the model input is ${input.dtype}, the exporter needs ${ONNX_DTYPE}`);
  const inputShape = staticShape(input.shape, 'input');
  const outputShape = staticShape(output.shape, 'output');

  const graph = new OnnxGraph(model.name);
  const values = new ValueTable(graph);
  values.define(input, 'keras', graph.input(inputName, inputShape));

  const layers = model.layers.filter((l) => l.getClassName() !== 'InputLayer');
  const plan = planFusions(layers, model.outputs);
  // Every application of every layer, translated once its inputs exist: a shared layer's later
  // applications can come after layers that follow it in model.layers.
  const pending: { layer: Layer; node: Layer['inboundNodes'][number] }[] = [];
  for (const layer of layers) {
    const className = layer.getClassName();
    if (!Object.hasOwn(LAYER_CONVERTERS, className)) {
      throw new UnsupportedLayerError(
        layer.name,
        className,
        `no translation for ${className}; supported: ${Object.keys(LAYER_CONVERTERS).join(', ')}`,
      );
    }
    if (plan.batchNormFolded.has(layer.name)) continue; // emitted with the layer it folds into
    for (const node of layer.inboundNodes) pending.push({ layer, node });
  }
  while (pending.length > 0) {
    const next = pending.findIndex(({ node }) => node.inputTensors.every((t) => values.has(t)));
    if (next < 0) throw new Error(`internal: ${pending[0].layer.name} waits for a value no layer makes`);
    const [{ layer, node }] = pending.splice(next, 1);
    LAYER_CONVERTERS[layer.getClassName()]({
      layer,
      config: layer.getConfig() as Record<string, unknown>,
      inputs: node.inputTensors,
      outputs: node.outputTensors,
      graph,
      values,
      plan,
    });
  }
  graph.output(values.get(output, 'keras'), outputName, outputShape);

  const source = exportSource();
  const bytes = graph.encode({
    opset,
    producerName: PRODUCER_NAME,
    producerVersion: PRODUCER_VERSION,
    docString: `TF.js LayersModel "${model.name}" translated to ONNX; input ${ONNX_INPUT_LAYOUT} ${ONNX_DTYPE}.`,
    metadata: { source, tfjs_model_name: model.name, input_layout: ONNX_INPUT_LAYOUT },
  });
  return {
    bytes,
    export: { onnx_opset: opset, source },
    inputName,
    outputName,
    inputShape,
    outputShape,
    stats: {
      nodes: graph.nodes.length,
      initializers: graph.initializers.length,
      foldedBatchNorms: plan.batchNormFolded.size,
      foldedPaddings: plan.paddingFolded.size,
    },
  };
}

/**
 * Exports `model` and writes it to `file` (parent folders created).
 *
 * @example const { export: info } = await writeOnnxModel(model, path.join(out, ONNX_FILE));
 */
export async function writeOnnxModel(
  model: tf.LayersModel,
  file: string,
  options: OnnxExportOptions = {},
): Promise<OnnxExport> {
  const result = exportToOnnx(model, options);
  await mkdir(path.dirname(file), { recursive: true });
  await writeFile(file, result.bytes);
  return result;
}
