/**
 * Temperature scaling as layers, so a calibrated version's graph computes its calibrated
 * probabilities itself and every runtime that loads it (TF.js, ONNX Runtime after export, Triton)
 * serves them with no extra code path:
 *
 * - LogitTemperature: logits / T + β, placed before a network's softmax.
 * - ProbabilityTemperature: softmax(ln p / T + β) = p^(1/T) e^β / sum p^(1/T) e^β, placed after
 *   the output of a model whose output is already a probability (an ensemble's mean), the
 *   power-and-renormalise form of the same scaling.
 *
 * T is one number for every class or one per class (broadcast over the last axis); the bias β,
 * one number per class, is optional (absent: 0). Whoever loads such a model must know the classes;
 * importing `@fer/shared/tfjs` registers them.
 */
import * as tf from '@tensorflow/tfjs';

export interface TemperatureLayerArgs {
  name?: string;
  /** [T] for one temperature, or one per class. Every value > 0. */
  temperature: number[];
  /** One finite number per class added after the division; absent for none. */
  bias?: number[];
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

function checkedBias(value: unknown, layer: string): number[] | null {
  if (value === undefined || value === null) return null;
  if (
    !Array.isArray(value) ||
    value.length === 0 ||
    !value.every((b) => typeof b === 'number' && Number.isFinite(b))
  ) {
    throw new Error(
      `${layer}: bias must be a non-empty list of finite numbers, got ${JSON.stringify(value)}`,
    );
  }
  return [...(value as number[])];
}

abstract class TemperatureLayer extends tf.layers.Layer {
  readonly temperature: number[];
  readonly bias: number[] | null;

  constructor(args: TemperatureLayerArgs) {
    super({ name: args.name, trainable: false });
    this.temperature = checkedTemperature(args.temperature, args.name ?? 'temperature layer');
    this.bias = checkedBias(args.bias, args.name ?? 'temperature layer');
  }

  override computeOutputShape(inputShape: tf.Shape | tf.Shape[]): tf.Shape | tf.Shape[] {
    return inputShape;
  }

  override getConfig(): tf.serialization.ConfigDict {
    return {
      ...super.getConfig(),
      temperature: [...this.temperature],
      ...(this.bias ? { bias: [...this.bias] } : {}),
    };
  }

  /** The input divided by T along its last axis, plus the bias. */
  protected scaled(x: tf.Tensor): tf.Tensor {
    const classes = x.shape[x.rank - 1];
    if (this.temperature.length !== 1 && this.temperature.length !== classes) {
      throw new Error(
        `${this.getClassName()} "${this.name}" has ${this.temperature.length} temperatures for ${classes} classes`,
      );
    }
    if (this.bias && this.bias.length !== classes) {
      throw new Error(
        `${this.getClassName()} "${this.name}" has ${this.bias.length} biases for ${classes} classes`,
      );
    }
    const divided = tf.div(x, tf.tensor1d(this.temperature));
    return this.bias ? tf.add(divided, tf.tensor1d(this.bias)) : divided;
  }

  protected static input(inputs: tf.Tensor | tf.Tensor[]): tf.Tensor {
    return Array.isArray(inputs) ? inputs[0] : inputs;
  }
}

/**
 * logits / T + β: sharper (T < 1) or softer (T > 1) probabilities after the softmax; the same
 * argmax without a bias.
 */
export class LogitTemperature extends TemperatureLayer {
  static readonly className = 'LogitTemperature';

  override call(inputs: tf.Tensor | tf.Tensor[]): tf.Tensor {
    return tf.tidy(() => this.scaled(TemperatureLayer.input(inputs)));
  }
}

/** softmax(ln p / T + β) of probabilities p: the same scaling for a model that outputs probabilities. */
export class ProbabilityTemperature extends TemperatureLayer {
  static readonly className = 'ProbabilityTemperature';

  override call(inputs: tf.Tensor | tf.Tensor[]): tf.Tensor {
    // A probability of exactly 0 gives -Infinity, whose softmax share is 0: it stays 0.
    return tf.tidy(() => tf.softmax(this.scaled(tf.log(TemperatureLayer.input(inputs)))));
  }
}

tf.serialization.registerClass(LogitTemperature);
tf.serialization.registerClass(ProbabilityTemperature);
