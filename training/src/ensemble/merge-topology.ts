/**
 * Several trained classifiers -> one TF.js model whose output is the mean of their probabilities
 * (soft voting). The merge works on the Keras JSON topology, so it is a pure function of the
 * members' `toJSON()`; the result is an ordinary flat LayersModel with one input and one output,
 * which the ONNX exporter and the service's runtimes take like any trained backbone.
 *
 * Member i's layers are renamed `members.i.<name>` (torch's ModuleList spelling, like the
 * backbones' own torchvision paths); all members read the one shared `input` layer, and an
 * Average layer named after the members' common output gives the ensemble's output.
 *
 * With `mirror`, a HorizontalFlip layer `input.mirror` mirrors the input and every member is
 * applied a second time to it, with the same weights (a second inbound node per layer): the
 * average then runs over each member on the image and on its mirror image (test-time flip).
 */

type InboundRef = [string, number, number, unknown];

/** A layer of a Keras functional topology as TF.js's `model.toJSON(undefined, false)` writes it. */
interface LayerJson {
  name: string;
  class_name: string;
  config: Record<string, unknown> & { name: string };
  /** inbound_nodes[node][input] = [layerName, nodeIndex, tensorIndex, kwargs]. */
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

export class EnsembleTopologyError extends Error {
  override name = 'EnsembleTopologyError';
}

/** The layer that mirrors the input for the members' second applications. */
export const MIRROR_LAYER = 'input.mirror';

export interface MergeOptions {
  /** Also apply every member to the mirrored input. */
  mirror?: boolean;
}

/** The layer name a member's layer gets inside the ensemble. */
export function memberLayerName(member: number, layer: string): string {
  return `members.${member}.${layer}`;
}

function functional(topology: unknown, member: number): FunctionalJson {
  const t = topology as Partial<FunctionalJson> | null;
  const config = t?.config;
  if (!config || !Array.isArray(config.layers) || !config.input_layers || !config.output_layers)
    throw new EnsembleTopologyError(`member ${member} is not a functional (graph) model`);
  if (config.input_layers.length !== 1 || config.output_layers.length !== 1) {
    throw new EnsembleTopologyError(
      `member ${member} has ${config.input_layers.length} inputs and ${config.output_layers.length} outputs; members need one of each`,
    );
  }
  return t as FunctionalJson;
}

function inputShape(topology: FunctionalJson): string {
  const [inputName] = topology.config.input_layers[0];
  const layer = topology.config.layers.find((l) => l.name === inputName);
  return JSON.stringify(layer?.config.batch_input_shape ?? null);
}

/**
 * Merges the members' topologies into one whose output averages theirs.
 *
 * @example
 * const json = mergeTopologies([a.toJSON(undefined, false), b.toJSON(undefined, false)], 'ensemble');
 * const model = await tf.models.modelFromJSON(json as tf.io.ModelJSON['modelTopology']);
 * @throws EnsembleTopologyError for fewer than two members, several inputs or outputs, or members
 * whose input shapes or output layer names differ, or a member layer applied more than once.
 */
export function mergeTopologies(
  topologies: readonly unknown[],
  name: string,
  options: MergeOptions = {},
): FunctionalJson {
  if (topologies.length < 2)
    throw new EnsembleTopologyError(`an ensemble needs at least two members, got ${topologies.length}`);
  const members = topologies.map(functional);
  const [first] = members;
  const inputName = first.config.input_layers[0][0];
  const outputName = first.config.output_layers[0][0];
  members.forEach((m, i) => {
    if (inputShape(m) !== inputShape(first)) {
      throw new EnsembleTopologyError(
        `member ${i} takes input ${inputShape(m)}, member 0 takes ${inputShape(first)}`,
      );
    }
    if (m.config.output_layers[0][0] !== outputName) {
      throw new EnsembleTopologyError(
        `member ${i}'s output layer is "${m.config.output_layers[0][0]}", member 0's is "${outputName}"`,
      );
    }
  });

  const inputLayer = first.config.layers.find((l) => l.name === inputName)!;
  const layers: LayerJson[] = [{ ...inputLayer, name: inputName, config: { ...inputLayer.config } }];
  if (options.mirror) {
    layers.push({
      name: MIRROR_LAYER,
      class_name: 'HorizontalFlip',
      config: { name: MIRROR_LAYER, trainable: false },
      inbound_nodes: [[[inputName, 0, 0, {}]]],
    });
  }
  members.forEach((member, i) => {
    const memberInput = member.config.input_layers[0][0];
    // The shared input keeps its name; every other reference moves into the member's namespace.
    const rename = (layer: string) => (layer === memberInput ? inputName : memberLayerName(i, layer));
    for (const layer of member.config.layers) {
      if (layer.name === memberInput) continue;
      if (layer.inbound_nodes.length !== 1) {
        throw new EnsembleTopologyError(
          `member ${i}'s layer "${layer.name}" is applied ${layer.inbound_nodes.length} times; members need each layer applied once`,
        );
      }
      const [node] = layer.inbound_nodes;
      const direct = node.map(([source, nodeIndex, tensorIndex, kwargs]): InboundRef => [
        rename(source),
        nodeIndex,
        tensorIndex,
        kwargs,
      ]);
      // The second application reads the mirror where the first reads the input, and the
      // second application (node 1) of every member layer where the first reads node 0.
      const mirrored = node.map(([source, , tensorIndex, kwargs]): InboundRef =>
        source === memberInput
          ? [MIRROR_LAYER, 0, tensorIndex, kwargs]
          : [rename(source), 1, tensorIndex, kwargs],
      );
      layers.push({
        ...layer,
        name: rename(layer.name),
        config: { ...layer.config, name: rename(layer.name) },
        inbound_nodes: options.mirror ? [direct, mirrored] : [direct],
      });
    }
  });
  const averaged = members.flatMap((m, i): InboundRef[] => {
    const output = memberLayerName(i, m.config.output_layers[0][0]);
    return options.mirror
      ? [
          [output, 0, 0, {}],
          [output, 1, 0, {}],
        ]
      : [[output, 0, 0, {}]];
  });
  layers.push({
    name: outputName,
    class_name: 'Average',
    config: { name: outputName, trainable: false },
    inbound_nodes: [averaged],
  });
  return {
    ...first,
    config: {
      name,
      layers,
      input_layers: [[inputName, 0, 0]],
      output_layers: [[outputName, 0, 0]],
    },
  };
}
