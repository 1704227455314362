/**
 * Sets every BatchNormalization's moving mean and variance from the statistics its input has on a
 * sample batch, layer after layer. A freshly initialised ResNet has moving statistics 0 and 1, so
 * in inference mode its residual sums grow block after block and a deep one outputs one-hot
 * probabilities for any input. Random-weight models made for export parity tests, runtime tests and
 * benchmarks use this so that their outputs vary with the input, as a trained model's do.
 */
import * as tf from '@tensorflow/tfjs';

/** Axes a batch norm averages over: all but its channel axis. */
function reductionAxes(rank: number, axis: number): number[] {
  const channel = axis < 0 ? axis + rank : axis;
  return Array.from({ length: rank }, (_, i) => i).filter((i) => i !== channel);
}

/**
 * Runs `sample` through `model` layer by layer and calibrates each batch norm on the way; returns
 * how many layers were set. The moving mean becomes the sample mean and the moving variance the
 * uncentred second moment E[x^2]: deep features of a random network hardly vary with the input, so
 * their centred variance is tiny and dividing by it would blow up any input but the sample; E[x^2]
 * scales every input to about unit size instead. Gamma and beta are kept. Tensors are freed as soon
 * as no layer needs them.
 *
 * @example calibrateBatchNorm(model, tf.randomNormal([8, 64, 64, 3], 0, 1, 'float32', seed)); // 155 for resnet152
 */
export function calibrateBatchNorm(model: tf.LayersModel, sample: tf.Tensor): number {
  if (model.inputs.length !== 1) throw new Error('calibrateBatchNorm needs a model with one input');
  const layers = model.layers.filter((l) => l.getClassName() !== 'InputLayer');
  const pending = new Map<number, number>();
  for (const layer of layers) {
    for (const t of layer.inboundNodes[0].inputTensors) pending.set(t.id, (pending.get(t.id) ?? 0) + 1);
  }
  const computed = new Map<number, tf.Tensor>([[model.inputs[0].id, sample]]);
  let calibrated = 0;
  try {
    for (const layer of layers) {
      if (layer.inboundNodes.length !== 1) throw new Error(`layer ${layer.name} is applied more than once`);
      const node = layer.inboundNodes[0];
      const inputs = node.inputTensors.map((t) => {
        const value = computed.get(t.id);
        if (!value) throw new Error(`internal: ${t.name} is not computed before ${layer.name}`);
        return value;
      });
      if (layer.getClassName() === 'BatchNormalization') {
        const config = layer.getConfig() as { axis?: number; scale?: boolean; center?: boolean };
        const axes = reductionAxes(inputs[0].rank, config.axis ?? -1);
        const weights = layer.getWeights();
        const keep = weights.slice(0, weights.length - 2); // gamma and beta, when present
        const [mean, secondMoment] = tf.tidy(() => [
          tf.mean(inputs[0], axes),
          tf.mean(tf.square(inputs[0]), axes),
        ]);
        layer.setWeights([...keep, mean, secondMoment]);
        tf.dispose([mean, secondMoment]);
        calibrated++;
      }
      const output = layer.apply(inputs.length === 1 ? inputs[0] : inputs, { training: false }) as tf.Tensor;
      // Identity layers (Dropout at inference) may return their input: own a separate handle.
      computed.set(node.outputTensors[0].id, inputs.includes(output) ? output.clone() : output);
      for (const t of node.inputTensors) {
        const left = (pending.get(t.id) ?? 1) - 1;
        pending.set(t.id, left);
        const value = computed.get(t.id);
        if (left === 0 && value && value !== sample) {
          value.dispose();
          computed.delete(t.id);
        }
      }
    }
  } finally {
    for (const value of computed.values()) if (value !== sample) value.dispose();
  }
  return calibrated;
}
