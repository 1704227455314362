/**
 * The compute cost of a network, counted from its layers: multiply-accumulate operations (MACs)
 * for one image, the figure torchvision's model cards call "GFLOPS" (ResNet152 at 224 px: 11.5 G).
 * Only convolutions and dense layers are counted; batch-norm, activations, pooling and
 * concatenation are memory-bound and small next to them, and torchvision's figures leave them out too.
 */
import type * as tf from '@tensorflow/tfjs';

interface ConvLike {
  kernelSize?: number[];
  filters?: number;
  units?: number;
}

function product(values: readonly (number | null)[]): number {
  return values.reduce<number>((total, value) => total * (value ?? 1), 1);
}

/** Shape without the batch axis: a layer's single input or output. */
function shapeOf(shape: tf.Shape | tf.Shape[]): (number | null)[] {
  const first = Array.isArray(shape[0]) ? (shape[0] as tf.Shape) : (shape as tf.Shape);
  return first.slice(1);
}

/**
 * MACs of one layer application for one image: k·k·C_in·C_out per output pixel for a Conv2D,
 * C_in·C_out for a Dense layer, 0 for everything else.
 *
 * @example layerMultiplyAdds(convLayer) // 3·3·16·32·48·48 for a 3x3 conv from 16 to 32 channels at 48 px
 */
export function layerMultiplyAdds(layer: tf.layers.Layer): number {
  const className = layer.getClassName();
  if (className === 'Conv2D') {
    const config = layer as unknown as ConvLike;
    const input = shapeOf(layer.inputSpec?.[0]?.shape ?? (layer.input as tf.SymbolicTensor).shape);
    const output = shapeOf((layer.output as tf.SymbolicTensor).shape);
    const inChannels = input[input.length - 1] ?? 0;
    const [outHeight, outWidth, outChannels] = output as number[];
    return product(config.kernelSize ?? [1, 1]) * inChannels * outChannels * outHeight * outWidth;
  }
  if (className === 'Dense') {
    const input = shapeOf((layer.input as tf.SymbolicTensor).shape);
    return (input[input.length - 1] ?? 0) * ((layer as unknown as ConvLike).units ?? 0);
  }
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
      total += countMultiplyAdds(layer as unknown as tf.LayersModel) * Math.max(1, layer.inboundNodes.length);
      continue;
    }
    total += layerMultiplyAdds(layer) * Math.max(1, layer.inboundNodes.length);
  }
  return total;
}
