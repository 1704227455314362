/**
 * One optimizer step on one batch: forward in training mode (batch-norm statistics update),
 * loss on the head's logits, gradients of the trainable variables, one AdamW update.
 *
 * With `microBatch` smaller than the batch, the gradients are accumulated over micro-batches
 * whose losses share the full batch's denominator, so the update equals the full batch's
 * except for batch-norm statistics (computed per micro-batch). That is how the study's batch of
 * 128 fits the wasm backend's 4 GB address space for ResNet152.
 */
import * as tf from '@tensorflow/tfjs';
import type { Batch } from '../data/batches';
import type { AdamW } from './adamw';
import { distillationLoss, type DistillationOptions } from '../distill/distillation-loss';
import { crossEntropy, type LossOptions } from './loss';

export interface StepContext {
  /** The model up to the head's logits (shares weights with the full model). */
  logitsModel: tf.LayersModel;
  /** The variables this step updates and their optimizer slot keys. */
  variables: tf.Variable[];
  keys: number[];
  optimizer: AdamW;
  loss: LossOptions;
  /** Learn from a teacher's softened answers too (the step then takes the batch's targets). */
  distillation?: DistillationOptions;
  /** Images per forward/backward pass; null or >= batch: the whole batch at once. */
  microBatch: number | null;
  inputSize: number;
}

export interface StepOutcome {
  /** The batch's loss (as the optimizer saw it). */
  loss: number;
  /** Images whose logits' argmax was their label. */
  correct: number;
}

/** The denominator of the batch loss: the summed class weights of its labels (n without weights). */
function batchNormalizer(labels: Int32Array, weights: Float32Array | null): number {
  if (weights === null) return labels.length;
  let sum = 0;
  for (const label of labels) sum += weights[label];
  return sum;
}

/**
 * Runs one step and updates the variables in place. With `ctx.distillation`, `targets` holds the
 * teacher's softened probabilities of the batch's images, row-major [n, classes].
 *
 * @example const { loss, correct } = trainStep(ctx, batch, { lr: 1e-3, beta1: 0.95 });
 */
export function trainStep(
  ctx: StepContext,
  batch: Batch,
  hyper: { lr: number; beta1: number },
  targets?: Float32Array,
): StepOutcome {
  const classes = targets ? targets.length / batch.n : 0;
  if (ctx.distillation && !(classes > 0 && Number.isInteger(classes)))
    throw new RangeError(`a distillation step needs [n, classes] teacher targets for its ${batch.n} images`);
  const size = ctx.inputSize;
  const floatsPerImage = size * size * 3;
  const micro = ctx.microBatch !== null && ctx.microBatch < batch.n ? ctx.microBatch : batch.n;
  const lossOptions: LossOptions =
    micro < batch.n ? { ...ctx.loss, normalizer: batchNormalizer(batch.y, ctx.loss.classWeights) } : ctx.loss;
  let summed: (tf.Tensor | null)[] | null = null;
  let loss = 0;
  let correct = 0;
  for (let start = 0; start < batch.n; start += micro) {
    const end = Math.min(batch.n, start + micro);
    const labels = batch.y.subarray(start, end);
    const xs = tf.tensor4d(batch.x.subarray(start * floatsPerImage, end * floatsPerImage), [
      end - start,
      size,
      size,
      3,
    ]);
    const ys = tf.tensor1d(labels, 'int32');
    const soft =
      ctx.distillation && targets
        ? tf.tensor2d(targets.subarray(start * classes, end * classes), [end - start, classes])
        : null;
    // The forward pass's predictions, kept out of variableGrads' tidy for the running accuracy.
    const kept: { predicted?: tf.Tensor } = {};
    const { value, grads } = tf.variableGrads(() => {
      const logits = ctx.logitsModel.apply(xs, { training: true }) as tf.Tensor2D;
      kept.predicted = tf.keep(tf.argMax(logits, 1));
      return ctx.distillation && soft
        ? distillationLoss(
            logits,
            ys as tf.Tensor1D,
            soft as tf.Tensor2D,
            lossOptions,
            ctx.distillation,
            micro < batch.n ? batch.n : undefined,
          )
        : crossEntropy(logits, ys as tf.Tensor1D, lossOptions);
    }, ctx.variables);
    loss += value.dataSync()[0];
    const predictions = kept.predicted?.dataSync() ?? new Int32Array(0);
    for (let i = 0; i < labels.length; i++) if (predictions[i] === labels[i]) correct++;
    tf.dispose([xs, ys, value]);
    soft?.dispose();
    kept.predicted?.dispose();
    // A variable without a path to the loss has no gradient (none in these backbones).
    const current = ctx.variables.map((v) => grads[v.name] ?? null);
    summed =
      summed === null
        ? current
        : summed.map((acc, i) => {
            const g = current[i];
            if (acc === null || g === null) return acc ?? g;
            const total = tf.add(acc, g);
            tf.dispose([acc, g]);
            return total;
          });
  }
  const final = summed ?? [];
  const used = final.flatMap((g, i) => (g === null ? [] : [{ v: ctx.variables[i], key: ctx.keys[i], g }]));
  ctx.optimizer.apply(
    used.map((u) => u.v),
    used.map((u) => u.key),
    used.map((u) => u.g),
    hyper,
  );
  tf.dispose(used.map((u) => u.g));
  return { loss, correct };
}
