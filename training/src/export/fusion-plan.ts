/**
 * Decides, before any node is written, which layers disappear into their neighbour: a ZeroPadding2D
 * into the convolution (or valid average pool) that alone reads it, and an inference-mode
 * BatchNormalization into the linear convolution or dense layer that alone feeds it. Both are exact
 * rewrites; anything less certain keeps its own node.
 */
import type * as tf from '@tensorflow/tfjs';

type Layer = tf.layers.Layer;

export interface FusionPlan {
  /** ZeroPadding2D layer names whose pads move into their consumer. */
  paddingFolded: ReadonlySet<string>;
  /** Conv2D / DepthwiseConv2D / Dense layer name -> the BatchNormalization folded into it. */
  batchNormInto: ReadonlyMap<string, Layer>;
  /** Names of the BatchNormalization layers that were folded (they emit nothing). */
  batchNormFolded: ReadonlySet<string>;
}

/** Layer classes whose kernel ends in the output-channel axis, so batch norm folds into them. */
const FOLD_TARGETS = new Set(['Conv2D', 'DepthwiseConv2D', 'Dense']);

function config(layer: Layer): Record<string, unknown> {
  return layer.getConfig() as Record<string, unknown>;
}

function isChannelsLast(layer: Layer): boolean {
  const format = config(layer).dataFormat;
  return format === undefined || format === 'channelsLast';
}

/** The layers reading each tensor (by tensor id); a model output counts as a reader too. */
function readers(
  layers: readonly Layer[],
  outputs: readonly tf.SymbolicTensor[],
): Map<number, (Layer | 'output')[]> {
  const map = new Map<number, (Layer | 'output')[]>();
  const add = (id: number, reader: Layer | 'output'): void => {
    const list = map.get(id) ?? [];
    list.push(reader);
    map.set(id, list);
  };
  for (const layer of layers) {
    for (const node of layer.inboundNodes) for (const t of node.inputTensors) add(t.id, layer);
  }
  for (const t of outputs) add(t.id, 'output');
  return map;
}

function onlyReader(map: Map<number, (Layer | 'output')[]>, tensor: tf.SymbolicTensor): Layer | null {
  const list = map.get(tensor.id) ?? [];
  return list.length === 1 && list[0] !== 'output' ? list[0] : null;
}

function canTakePadding(layer: Layer): boolean {
  const name = layer.getClassName();
  if (!isChannelsLast(layer)) return false;
  if (name === 'Conv2D' || name === 'DepthwiseConv2D') return true;
  // Zero padding counted in the average equals count_include_pad=1 only without 'same' padding.
  return name === 'AveragePooling2D' && config(layer).padding === 'valid';
}

function canFoldBatchNorm(producer: Layer, bn: Layer): boolean {
  if (!FOLD_TARGETS.has(producer.getClassName()) || !isChannelsLast(producer)) return false;
  if (config(producer).activation !== 'linear') return false;
  const rank = bn.inboundNodes[0].inputTensors[0].shape.length;
  const axis = config(bn).axis as number;
  return axis === -1 || axis === rank - 1;
}

/**
 * The fusions for a model's layers (in topological order) and outputs.
 *
 * @example planFusions(model.layers, model.outputs).batchNormInto.get('conv1')?.name // 'bn1'
 */
export function planFusions(layers: readonly Layer[], outputs: readonly tf.SymbolicTensor[]): FusionPlan {
  const map = readers(layers, outputs);
  const paddingFolded = new Set<string>();
  const batchNormInto = new Map<string, Layer>();
  const batchNormFolded = new Set<string>();
  for (const layer of layers) {
    // A shared layer folds only when every one of its applications can.
    const nodes = layer.inboundNodes;
    const kind = layer.getClassName();
    if (kind === 'ZeroPadding2D' && isChannelsLast(layer)) {
      const readersOk = nodes.every((node) => {
        const reader = onlyReader(map, node.outputTensors[0]);
        return reader !== null && canTakePadding(reader);
      });
      if (readersOk) paddingFolded.add(layer.name);
    } else if (kind === 'BatchNormalization') {
      const inputs = nodes.map((node) => node.inputTensors[0]);
      const producer = inputs[0].sourceLayer;
      if (
        inputs.every((input) => input.sourceLayer === producer && onlyReader(map, input) === layer) &&
        producer.inboundNodes.length === nodes.length &&
        canFoldBatchNorm(producer, layer)
      ) {
        batchNormInto.set(producer.name, layer);
        batchNormFolded.add(layer.name);
      }
    }
  }
  return { paddingFolded, batchNormInto, batchNormFolded };
}
