/**
 * Adam with decoupled weight decay (AdamW, Loshchilov & Hutter) and global gradient-norm
 * clipping. TF.js's AdamOptimizer has neither, takes its rate at construction and does not
 * expose its state in a form we can checkpoint; this one takes the rate and beta1 per step
 * (from the one-cycle schedule) and saves/restores its moments exactly, for `--resume`.
 *
 * Update per variable (PyTorch's AdamW): p -= lr*wd*p; m = b1*m + (1-b1)*g; v = b2*v + (1-b2)*g^2;
 * p -= lr * (m / (1 - b1^t)) / (sqrt(v / (1 - b2^t)) + eps).
 */
import * as tf from '@tensorflow/tfjs';

import { adamwUpdate, sumOfSquares } from '../kernels';

export interface AdamWConfig {
  beta2: number;
  epsilon: number;
  weightDecay: number;
  /** Largest global L2 norm of the gradients; larger gradients are scaled down. null: no clipping. */
  clipNorm: number | null;
}

export const DEFAULT_ADAMW: AdamWConfig = { beta2: 0.999, epsilon: 1e-8, weightDecay: 1e-2, clipNorm: 1 };

/** Per-variable moments and step count, as plain arrays for a checkpoint. */
export interface AdamWSlotState {
  step: number;
  m: Float32Array;
  v: Float32Array;
}

interface Slot {
  step: number;
  m: tf.Variable;
  v: tf.Variable;
}

export interface StepResult {
  /** Global gradient norm before clipping. */
  gradNorm: number;
}

export class AdamW {
  /** Slots by the variable's index in the model's weight list (names change between processes). */
  private readonly slots = new Map<number, Slot>();

  constructor(readonly config: AdamWConfig) {}

  /**
   * Applies one update. `grads[i]` is the gradient of `variables[i]`, whose slot key is `keys[i]`.
   *
   * @example optimizer.apply(vars, keys, grads, { lr: 1e-3, beta1: 0.9 });
   */
  apply(
    variables: readonly tf.Variable[],
    keys: readonly number[],
    grads: readonly tf.Tensor[],
    hyper: { lr: number; beta1: number },
  ): StepResult {
    const { beta2, epsilon, weightDecay, clipNorm } = this.config;
    // Squared norms one gradient at a time, so only one squared copy exists at once.
    const squares = grads.map((g) => sumOfSquares(g));
    const normTensor = tf.tidy(() => tf.sqrt(tf.addN(squares)));
    const gradNorm = normTensor.dataSync()[0];
    tf.dispose([normTensor, ...squares]);
    const clipScale = clipNorm !== null && gradNorm > clipNorm ? clipNorm / (gradNorm + 1e-6) : 1;
    variables.forEach((variable, i) => {
      const slot = this.slotFor(keys[i], variable);
      slot.step += 1;
      // One tidy per variable: the temporaries of a 58M-parameter network's update would
      // otherwise all be alive at once (about ten copies of the weights).
      tf.tidy(() => {
        // One fused pass on wasm (training/src/kernels), the same ops as before elsewhere.
        const [p, m, v] = adamwUpdate(variable, grads[i], slot.m, slot.v, {
          lr: hyper.lr,
          beta1: hyper.beta1,
          beta2,
          epsilon,
          weightDecay,
          step: slot.step,
          gradScale: clipScale,
        });
        slot.m.assign(m);
        slot.v.assign(v);
        variable.assign(p);
      });
    });
    return { gradNorm };
  }

  private slotFor(key: number, variable: tf.Variable): Slot {
    let slot = this.slots.get(key);
    if (!slot) {
      // Inside a tidy: tf.variable keeps the data, the tidy drops the zeros tensor it was made from.
      slot = tf.tidy(() => ({
        step: 0,
        m: tf.variable(tf.zerosLike(variable), false),
        v: tf.variable(tf.zerosLike(variable), false),
      }));
      this.slots.set(key, slot);
    }
    return slot;
  }

  /** Moments of every variable updated so far, keyed like `apply`'s keys. */
  async exportState(): Promise<Map<number, AdamWSlotState>> {
    const out = new Map<number, AdamWSlotState>();
    for (const [key, slot] of [...this.slots.entries()].sort((a, b) => a[0] - b[0])) {
      out.set(key, {
        step: slot.step,
        m: (await slot.m.data()) as Float32Array,
        v: (await slot.v.data()) as Float32Array,
      });
    }
    return out;
  }

  /** Replaces the moments with saved ones; `shapes` gives each key's variable shape. */
  importState(state: Map<number, AdamWSlotState>, shapes: Map<number, number[]>): void {
    this.dispose();
    for (const [key, saved] of state) {
      const shape = shapes.get(key);
      if (!shape) throw new Error(`optimizer state for weight #${key}, which the model does not have`);
      this.slots.set(
        key,
        tf.tidy(() => ({
          step: saved.step,
          m: tf.variable(tf.tensor(saved.m, shape), false),
          v: tf.variable(tf.tensor(saved.v, shape), false),
        })),
      );
    }
  }

  dispose(): void {
    for (const slot of this.slots.values()) {
      slot.m.dispose();
      slot.v.dispose();
    }
    this.slots.clear();
  }
}
