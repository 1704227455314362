/**
 * The compute cost of a network, counted from its layers: multiply-accumulate operations (MACs)
 * for one image, the figure torchvision's model cards call "GFLOPS" (ResNet152 at 224 px: 11.5 G).
 * Only convolutions and dense layers are counted; batch-norm, activations, pooling and
 * concatenation are memory-bound and small next to them, and torchvision's figures leave them out too.
 */
import type * as tf from '@tensorflow/tfjs';

interface ConvLike {
  kernelSize?: number[];
  units?: number;
}

function product(values: readonly (number | null)[]): number {
  return values.reduce<number>((total, value) => total * (value ?? 1), 1);
}

/** Input and output shapes (batch axis dropped) of each application of a layer. */
function applications(layer: tf.layers.Layer): { input: (number | null)[]; output: (number | null)[] }[] {
  // Per inbound node: `layer.input` throws for a layer applied more than once (mirrored ensembles).
  return layer.inboundNodes.map((node) => ({
    input: node.inputTensors[0].shape.slice(1),
    output: node.outputTensors[0].shape.slice(1),
  }));
}

/**
 * MACs of one application of a layer for one image: k·k·C_in·C_out per output pixel for a Conv2D,
 * C_in·C_out for a Dense layer, 0 for everything else.
 *
 * @example layerMultiplyAdds(conv, [48, 48, 16], [48, 48, 32]) // 3·3·16·32·48·48 for a 3x3 conv
 */
export function layerMultiplyAdds(
  layer: tf.layers.Layer,
  input: readonly (number | null)[],
  output: readonly (number | null)[],
): number {
  const className = layer.getClassName();
  const inChannels = input[input.length - 1] ?? 0;
  if (className === 'Conv2D') {
    const kernel = product((layer as unknown as ConvLike).kernelSize ?? [1, 1]);
    return kernel * inChannels * product(output);
  }
  if (className === 'Dense') return inChannels * ((layer as unknown as ConvLike).units ?? 0);
  return 0;
}

/**
 * MACs of a whole model for one image, summed over every layer application (a layer applied to
 * two inputs, as in a mirrored ensemble, counts twice).
 *
 * @example countMultiplyAdds(buildBackbone('resnet152', { inputSize: 224, numClasses: 1000 })) // ≈ 11.5e9
 */
export function countMultiplyAdds(model: tf.LayersModel): number {
  let total = 0;
  for (const layer of model.layers) {
    if ('layers' in layer) {
      // A model's first inbound node is the one its own construction made, not an application.
      const uses = Math.max(1, layer.inboundNodes.length - 1);
      total += countMultiplyAdds(layer as unknown as tf.LayersModel) * uses;
      continue;
    }
    for (const { input, output } of applications(layer)) total += layerMultiplyAdds(layer, input, output);
  }
  return total;
}
