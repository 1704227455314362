/**
 * A trained model -> the same model with a temperature layer (and the per-class bias, when the fit
 * kept one) in its graph, so its own output is calibrated. Where the layer goes depends on what the
 * output is:
 *
 * - 'logits': the output layer is a softmax (every backbone's `probabilities`): a LogitTemperature
 *   layer is inserted between it and the logits that feed it.
 * - 'probabilities': anything else (an ensemble's Average of probabilities): the output layer is
 *   renamed `<name>.uncalibrated` and a ProbabilityTemperature layer named like the old output
 *   follows it (power and renormalise).
 *
 * The edit works on the Keras JSON topology (a pure function), then the weights are copied into
 * the rebuilt model layer by layer, as the ensemble builder does.
 */
import * as tf from '@tensorflow/tfjs';
import '@fer/shared/tfjs'; // registers the temperature layers (and HorizontalFlip for mirrored ensembles)
import type { Calibration } from './temperature-fit';

export type TemperatureMode = 'logits' | 'probabilities';

/** The inserted layer in 'logits' mode. */
export const LOGIT_TEMPERATURE_LAYER = 'logits.temperature';
export const UNCALIBRATED_SUFFIX = '.uncalibrated';
const TEMPERATURE_CLASSES = new Set(['LogitTemperature', 'ProbabilityTemperature']);

type InboundRef = [string, number, number, unknown];

interface LayerJson {
  name: string;
  class_name: string;
  config: Record<string, unknown> & { name: string };
  inbound_nodes: InboundRef[][];
}

interface FunctionalJson {
  class_name: string;
  config: {
    name: string;
    layers: LayerJson[];
    input_layers: [string, number, number][];
    output_layers: [string, number, number][];
  };
  [key: string]: unknown;
}

export class CalibrationModelError extends Error {
  override name = 'CalibrationModelError';
}

function functional(topology: unknown): FunctionalJson {
  const t = topology as Partial<FunctionalJson> | null;
  if (!t?.config || !Array.isArray(t.config.layers) || t.config.output_layers?.length !== 1)
    throw new CalibrationModelError('only functional models with one output can be calibrated');
  return t as FunctionalJson;
}

function isSoftmax(layer: LayerJson): boolean {
  return (
    layer.class_name === 'Softmax' ||
    (layer.class_name === 'Activation' && layer.config.activation === 'softmax')
  );
}

/** Where a temperature goes in a model whose output layer is `output`. */
function modeOf(layers: readonly LayerJson[], output: LayerJson): TemperatureMode {
  const feeding = output.inbound_nodes.flatMap((node) => node.map(([source]) => source));
  if (
    TEMPERATURE_CLASSES.has(output.class_name) ||
    layers.some((l) => feeding.includes(l.name) && TEMPERATURE_CLASSES.has(l.class_name))
  ) {
    throw new CalibrationModelError(
      `the model is already calibrated (its output "${output.name}" follows a temperature layer)`,
    );
  }
  return isSoftmax(output) ? 'logits' : 'probabilities';
}

function outputLayer(topology: FunctionalJson): LayerJson {
  const [name] = topology.config.output_layers[0];
  const layer = topology.config.layers.find((l) => l.name === name);
  if (!layer) throw new CalibrationModelError(`the output layer "${name}" is not in the topology`);
  return layer;
}

/**
 * Which kind of temperature layer a model takes.
 *
 * @example temperatureMode(resnet) // 'logits'; temperatureMode(ensemble) // 'probabilities'
 * @throws CalibrationModelError for a model that already ends in a temperature.
 */
export function temperatureMode(model: tf.LayersModel): TemperatureMode {
  const topology = functional(model.toJSON(undefined, false));
  return modeOf(topology.config.layers, outputLayer(topology));
}

/** The layer config of a calibration: its temperature, and its bias only when there is one. */
function layerConfig(name: string, calibration: Calibration) {
  return {
    name,
    trainable: false,
    temperature: [...calibration.temperature],
    ...(calibration.bias ? { bias: [...calibration.bias] } : {}),
  };
}

/**
 * The topology with the temperature layer in place, and the new name of every renamed layer.
 *
 * @example const { topology, renamed } = insertTemperature(model.toJSON(undefined, false), { temperature: [0.8], bias: null });
 * @throws CalibrationModelError for an unsupported or already calibrated topology.
 */
export function insertTemperature(
  json: unknown,
  calibration: Calibration,
): { topology: FunctionalJson; mode: TemperatureMode; renamed: Map<string, string> } {
  const source = functional(json);
  const output = outputLayer(source);
  const mode = modeOf(source.config.layers, output);
  const layers = source.config.layers.map((l) => ({ ...l, config: { ...l.config } }));
  const renamed = new Map<string, string>();
  if (mode === 'logits') {
    if (layers.some((l) => l.name === LOGIT_TEMPERATURE_LAYER))
      throw new CalibrationModelError(`the model already has a layer named "${LOGIT_TEMPERATURE_LAYER}"`);
    const at = layers.findIndex((l) => l.name === output.name);
    // One application of the temperature for each application of the softmax.
    const scaling: LayerJson = {
      name: LOGIT_TEMPERATURE_LAYER,
      class_name: 'LogitTemperature',
      config: layerConfig(LOGIT_TEMPERATURE_LAYER, calibration),
      inbound_nodes: output.inbound_nodes,
    };
    layers[at] = {
      ...layers[at],
      inbound_nodes: output.inbound_nodes.map((_, node) => [[LOGIT_TEMPERATURE_LAYER, node, 0, {}]]),
    };
    layers.splice(at, 0, scaling);
    return { topology: { ...source, config: { ...source.config, layers } }, mode, renamed };
  }
  if (output.inbound_nodes.length !== 1)
    throw new CalibrationModelError(`the output layer "${output.name}" is applied more than once`);
  const uncalibrated = `${output.name}${UNCALIBRATED_SUFFIX}`;
  if (layers.some((l) => l.name === uncalibrated))
    throw new CalibrationModelError(`the model already has a layer named "${uncalibrated}"`);
  renamed.set(output.name, uncalibrated);
  const at = layers.findIndex((l) => l.name === output.name);
  layers[at] = { ...layers[at], name: uncalibrated, config: { ...layers[at].config, name: uncalibrated } };
  layers.push({
    name: output.name,
    class_name: 'ProbabilityTemperature',
    config: layerConfig(output.name, calibration),
    inbound_nodes: [[[uncalibrated, 0, 0, {}]]],
  });
  return { topology: { ...source, config: { ...source.config, layers } }, mode, renamed };
}

/**
 * A new model computing `model`'s output through the calibration; `model` is not changed and
 * stays the caller's to dispose, as does the result.
 *
 * @example const calibrated = await withTemperature(model, { temperature: [0.79], bias: null });
 * @throws CalibrationModelError for an unsupported or already calibrated model.
 */
export async function withTemperature(
  model: tf.LayersModel,
  calibration: Calibration,
): Promise<tf.LayersModel> {
  const { topology, renamed } = insertTemperature(model.toJSON(undefined, false), calibration);
  const calibrated = await tf.models.modelFromJSON(
    topology as unknown as Parameters<typeof tf.models.modelFromJSON>[0],
  );
  for (const layer of model.layers) {
    const weights = layer.getWeights();
    if (weights.length > 0) calibrated.getLayer(renamed.get(layer.name) ?? layer.name).setWeights(weights);
  }
  return calibrated;
}

/**
 * The model up to what the temperature layer reads: the logits that feed the output softmax, or
 * the output itself in 'probabilities' mode. Shares `model`'s layers and weights.
 *
 * @example const logits = await predictSet(temperatureInputModel(model), validation, spec, 256);
 */
export function temperatureInputModel(model: tf.LayersModel, mode: TemperatureMode): tf.LayersModel {
  if (mode === 'probabilities') return model;
  const output = model.outputs[0];
  const softmax = output.sourceLayer;
  const logits = softmax.inboundNodes[output.nodeIndex].inputTensors[0];
  return tf.model({ inputs: model.inputs, outputs: logits });
}
