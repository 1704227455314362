/**
 * Temperature scaling as layers, so a calibrated version's graph computes its calibrated
 * probabilities itself and every runtime that loads it (TF.js, ONNX Runtime after export, Triton)
 * serves them with no extra code path:
 *
 * - LogitTemperature: logits / T, placed before a network's softmax.
 * - ProbabilityTemperature: softmax(ln p / T) = p^(1/T) / sum p^(1/T), placed after the output of
 *   a model whose output is already a probability (an ensemble's mean), the power-and-renormalise
 *   form of the same scaling.
 *
 * T is one number for every class or one per class (broadcast over the last axis). Whoever loads
 * such a model must know the classes; importing `@fer/shared/tfjs` registers them.
 */
import * as tf from '@tensorflow/tfjs';

export interface TemperatureLayerArgs {
  name?: string;
  /** [T] for one temperature, or one per class. Every value > 0. */
  temperature: number[];
}

function checkedTemperature(value: unknown, layer: string): number[] {
  if (
    !Array.isArray(value) ||
    value.length === 0 ||
    !value.every((t) => typeof t === 'number' && Number.isFinite(t) && t > 0)
  ) {
    throw new Error(
      `${layer}: temperature must be a non-empty list of positive numbers, got ${JSON.stringify(value)}`,
    );
  }
  return [...(value as number[])];
}

abstract class TemperatureLayer extends tf.layers.Layer {
  readonly temperature: number[];

  constructor(args: TemperatureLayerArgs) {
    super({ name: args.name, trainable: false });
    this.temperature = checkedTemperature(args.temperature, args.name ?? 'temperature layer');
  }

  override computeOutputShape(inputShape: tf.Shape | tf.Shape[]): tf.Shape | tf.Shape[] {
    return inputShape;
  }

  override getConfig(): tf.serialization.ConfigDict {
    return { ...super.getConfig(), temperature: [...this.temperature] };
  }

  /** The input divided by T along its last axis. */
  protected scaled(x: tf.Tensor): tf.Tensor {
    const classes = x.shape[x.rank - 1];
    if (this.temperature.length !== 1 && this.temperature.length !== classes) {
      throw new Error(
        `${this.getClassName()} "${this.name}" has ${this.temperature.length} temperatures for ${classes} classes`,
      );
    }
    return tf.div(x, tf.tensor1d(this.temperature));
  }

  protected static input(inputs: tf.Tensor | tf.Tensor[]): tf.Tensor {
    return Array.isArray(inputs) ? inputs[0] : inputs;
  }
}

/** logits / T: sharper (T < 1) or softer (T > 1) probabilities after the softmax, same argmax. */
export class LogitTemperature extends TemperatureLayer {
  static readonly className = 'LogitTemperature';

  override call(inputs: tf.Tensor | tf.Tensor[]): tf.Tensor {
    return tf.tidy(() => this.scaled(TemperatureLayer.input(inputs)));
  }
}

/** softmax(ln p / T) of probabilities p: the same scaling for a model that outputs probabilities. */
export class ProbabilityTemperature extends TemperatureLayer {
  static readonly className = 'ProbabilityTemperature';

  override call(inputs: tf.Tensor | tf.Tensor[]): tf.Tensor {
    // A probability of exactly 0 gives -Infinity, whose softmax share is 0: it stays 0.
    return tf.tidy(() => tf.softmax(this.scaled(tf.log(TemperatureLayer.input(inputs)))));
  }
}

tf.serialization.registerClass(LogitTemperature);
tf.serialization.registerClass(ProbabilityTemperature);
