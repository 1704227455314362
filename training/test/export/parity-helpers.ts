// Running the same input through a TF.js model and its ONNX export, for the parity tests.
import * as tf from '@tensorflow/tfjs';
import * as ort from 'onnxruntime-node';

/** The parity bound the issue sets for TF.js vs ONNX Runtime probabilities. */
export const PARITY_TOLERANCE = 1e-4;

export async function ortSession(bytes: Uint8Array): Promise<ort.InferenceSession> {
  return ort.InferenceSession.create(bytes, { graphOptimizationLevel: 'all', intraOpNumThreads: 2 });
}

/** Runs `input` (NHWC or 2-D, batch first) through the session's `input` -> `probabilities`. */
export async function runOrt(
  session: ort.InferenceSession,
  input: tf.Tensor,
): Promise<{ data: Float32Array; dims: readonly number[] }> {
  const data = Float32Array.from(input.dataSync());
  const result = await session.run({ input: new ort.Tensor('float32', data, input.shape) });
  const output = result.probabilities;
  return { data: output.data as Float32Array, dims: output.dims };
}

export function runTfjs(model: tf.LayersModel, input: tf.Tensor): Float32Array {
  return tf.tidy(() => (model.predict(input) as tf.Tensor).dataSync() as Float32Array).slice();
}

export function maxAbsDiff(a: ArrayLike<number>, b: ArrayLike<number>): number {
  if (a.length !== b.length) throw new Error(`length ${a.length} vs ${b.length}`);
  let max = 0;
  for (let i = 0; i < a.length; i++) max = Math.max(max, Math.abs(a[i] - b[i]));
  return max;
}

/** A seeded NHWC batch shaped for the model's input. */
export function randomInput(model: tf.LayersModel, batch: number, seed: number): tf.Tensor {
  const [, ...rest] = model.inputs[0].shape as number[];
  return tf.randomNormal([batch, ...rest], 0, 1, 'float32', seed);
}

/**
 * One seeded batch through the ONNX bytes and through the TF.js model; the session and the input
 * are released whatever happens.
 */
export async function bothRuntimes(
  model: tf.LayersModel,
  bytes: Uint8Array,
  batch: number,
  seed: number,
): Promise<{ onnx: { data: Float32Array; dims: readonly number[] }; tfjs: Float32Array }> {
  const session = await ortSession(bytes);
  const input = randomInput(model, batch, seed);
  try {
    return { onnx: await runOrt(session, input), tfjs: runTfjs(model, input) };
  } finally {
    input.dispose();
    await session.release();
  }
}
