/**
 * The alternative runtime (DESIGN §6): a version's tfjs/ folder in TensorFlow.js, on the best
 * backend present (tensorflow -> wasm -> cpu, or the configured TFJS_BACKEND). It serves where
 * onnxruntime cannot be installed and checks the ONNX path: both must agree on the same weights.
 * Every tensor is created and freed inside run(), so a long-running service does not leak memory.
 */
import path from 'node:path';
import * as tf from '@tensorflow/tfjs';
import { TFJS_DIR, type ModelMetadata } from '@fer/shared';
import { loadLayersModel, selectBackend, type BackendChoice } from '@fer/shared/tfjs';
import { checkBatch, modelShape, type ModelShape } from './input-shape';
import type { InferenceRuntime, RuntimeOptions } from './types';

/** `[N, 32, 32, 3]` for a Keras shape with a dynamic batch. */
function describeShape(shape: readonly (number | null)[]): string {
  return `[${shape.map((d) => d ?? 'N').join(', ')}]`;
}

export class TfjsRuntime implements InferenceRuntime {
  readonly kind = 'tfjs' as const;
  private model: tf.LayersModel | null = null;
  private shape: ModelShape | null = null;
  /** The backend the model runs on, for logs and /models. */
  backend: BackendChoice | null = null;

  constructor(private readonly options: RuntimeOptions) {}

  /**
   * Loads tfjs/model.json and its weights, checks them against metadata.json, warms up with one image.
   *
   * @example const rt = new TfjsRuntime({ device: 'cpu', tfjsBackend: 'wasm' }); await rt.load(dir, metadata);
   */
  async load(versionDir: string, metadata: ModelMetadata): Promise<void> {
    if (this.model) throw new Error('this runtime already holds a model; create one runtime per version');
    // The backend is global to the process; with one TFJS_BACKEND per service every load agrees.
    this.backend = await selectBackend(this.options.tfjsBackend);
    const shape = modelShape(metadata);
    const model = await loadLayersModel(path.join(versionDir, TFJS_DIR));
    const [, h, w, c] = model.inputs[0].shape;
    const [, classes] = model.outputs[0].shape;
    const problems: string[] = [];
    if (
      model.inputs.length !== 1 ||
      model.inputs[0].shape.length !== 4 ||
      h !== shape.size ||
      w !== shape.size ||
      c !== shape.channels
    ) {
      problems.push(
        `${TFJS_DIR}/ model input is ${describeShape(model.inputs[0].shape)}, metadata.json says [N, ${shape.size}, ${shape.size}, ${shape.channels}]`,
      );
    }
    if (model.outputs.length !== 1 || model.outputs[0].shape.length !== 2 || classes !== shape.classes) {
      problems.push(
        `${TFJS_DIR}/ model output is ${describeShape(model.outputs[0].shape)}, metadata.json lists ${shape.classes} classes`,
      );
    }
    if (problems.length > 0) {
      model.dispose();
      throw new Error(problems.join('; '));
    }
    this.model = model;
    this.shape = shape;
    // Compiles the backend's kernels (wasm) and allocates once, before the first request.
    await this.run(new Float32Array(shape.imageLength), 1);
  }

  /**
   * Probabilities [n, classes] for `n` NHWC images; leaves no tensor behind.
   *
   * @example const probs = await rt.run(batch, 8); // Float32Array(8 * 6)
   * @throws InvalidBatchError when `input` does not hold `n` images of the model's shape.
   */
  async run(input: Float32Array, n: number): Promise<Float32Array> {
    const { model, shape } = this;
    if (!model || !shape) throw new Error('the TF.js runtime has no model loaded');
    checkBatch(input, n, shape);
    const output = tf.tidy(
      () => model.predict(tf.tensor4d(input, [n, shape.size, shape.size, shape.channels])) as tf.Tensor,
    );
    try {
      // A copy: the backend may reuse or free its own buffer once the tensor is disposed.
      return Float32Array.from((await output.data()) as Float32Array);
    } finally {
      output.dispose();
    }
  }

  async dispose(): Promise<void> {
    this.model?.dispose();
    this.model = null;
    this.shape = null;
  }
}
