/**
 * The default runtime (DESIGN §6): a version's model.onnx in onnxruntime-node. It runs the backbones
 * several times faster than TF.js on wasm (multi-threaded, fused conv+BN kernels; measured by
 * `npm run bench:runtime`), and the same file serves Triton GPU fleets. CPU uses every available
 * core for one batch at a time (the batching queue runs one batch per version); CUDA when the
 * service is configured for it.
 */
import os from 'node:os';
import path from 'node:path';
import * as ort from 'onnxruntime-node';
import { ONNX_FILE, ONNX_INPUT_NAME, ONNX_OUTPUT_NAME, type ModelMetadata } from '@fer/shared';
import { checkBatch, modelShape, type ModelShape } from './input-shape';
import type { InferenceRuntime, RuntimeOptions } from './types';

/** The graph's tensor names: the registry's model.onnx contract (DESIGN §3), defined in @fer/shared. */
export const ONNX_INPUT = ONNX_INPUT_NAME;
export const ONNX_OUTPUT = ONNX_OUTPUT_NAME;

/** Session options for `options`: all graph optimizations, one batch at a time on every core. */
export function onnxSessionOptions(options: RuntimeOptions): ort.InferenceSession.SessionOptions {
  return {
    executionProviders: options.device === 'cuda' ? [{ name: 'cuda', deviceId: 0 }] : ['cpu'],
    graphOptimizationLevel: 'all',
    intraOpNumThreads: options.threads ?? os.availableParallelism(),
    // Batches are sequential per session; parallel branches (DenseNet concat inputs) gain nothing.
    interOpNumThreads: 1,
    executionMode: 'sequential',
    // Warnings only: ORT logs every removed initializer at 'info' when it folds the graph.
    logSeverityLevel: 3,
  };
}

function describeShape(shape: readonly (number | string)[]): string {
  return `[${shape.join(', ')}]`;
}

/** Problems of a session's interface against the version's metadata; empty when it fits. */
export function interfaceProblems(session: ort.InferenceSession, shape: ModelShape): string[] {
  const problems: string[] = [];
  const input = session.inputMetadata.find((m) => m.name === ONNX_INPUT);
  const output = session.outputMetadata.find((m) => m.name === ONNX_OUTPUT);
  if (!input)
    problems.push(`${ONNX_FILE} has no input "${ONNX_INPUT}" (inputs: ${session.inputNames.join(', ')})`);
  if (!output) {
    problems.push(`${ONNX_FILE} has no output "${ONNX_OUTPUT}" (outputs: ${session.outputNames.join(', ')})`);
  }
  if (input?.isTensor) {
    const [, h, w, c] = input.shape;
    if (input.type !== 'float32') problems.push(`${ONNX_FILE} input is ${input.type}, expected float32`);
    if (input.shape.length !== 4 || h !== shape.size || w !== shape.size || c !== shape.channels) {
      problems.push(
        `${ONNX_FILE} input is ${describeShape(input.shape)}, metadata.json says ` +
          `[N, ${shape.size}, ${shape.size}, ${shape.channels}]`,
      );
    }
  }
  if (output?.isTensor) {
    if (output.shape.length !== 2 || output.shape[1] !== shape.classes) {
      problems.push(
        `${ONNX_FILE} output is ${describeShape(output.shape)}, metadata.json lists ${shape.classes} classes`,
      );
    }
  }
  return problems;
}

export class OnnxRuntime implements InferenceRuntime {
  readonly kind = 'onnx' as const;
  private session: ort.InferenceSession | null = null;
  private shape: ModelShape | null = null;

  constructor(private readonly options: RuntimeOptions) {}

  /**
   * Opens the version's model.onnx and warms it up with one image.
   *
   * @example const rt = new OnnxRuntime({ device: 'cpu' }); await rt.load(dir, metadata);
   */
  async load(versionDir: string, metadata: ModelMetadata): Promise<void> {
    if (this.session) throw new Error('this runtime already holds a model; create one runtime per version');
    const shape = modelShape(metadata);
    const file = path.join(versionDir, ONNX_FILE);
    let session: ort.InferenceSession;
    try {
      session = await ort.InferenceSession.create(file, onnxSessionOptions(this.options));
    } catch (error) {
      const reason = error instanceof Error ? error.message : String(error);
      if (this.options.device === 'cuda') {
        throw new Error(
          `the CUDA execution provider is not available (DEVICE=cuda): ${reason.split('\n')[0]}. ` +
            'Install onnxruntime-node with onnxruntime-node-install=cuda12 on a host with CUDA 12 and cuDNN 9, or use DEVICE=cpu.',
          { cause: error },
        );
      }
      throw new Error(`cannot load ${ONNX_FILE}: ${reason}`, { cause: error });
    }
    const problems = interfaceProblems(session, shape);
    if (problems.length > 0) {
      await session.release();
      throw new Error(problems.join('; '));
    }
    this.session = session;
    this.shape = shape;
    // The first run allocates buffers and picks kernels; pay that now, not on a request.
    await this.run(new Float32Array(shape.imageLength), 1);
  }

  /**
   * Probabilities [n, classes] for `n` NHWC images.
   *
   * @example const probs = await rt.run(batch, 8); // Float32Array(8 * 6)
   * @throws InvalidBatchError when `input` does not hold `n` images of the model's shape.
   */
  async run(input: Float32Array, n: number): Promise<Float32Array> {
    const { session, shape } = this;
    if (!session || !shape) throw new Error('the ONNX runtime has no model loaded');
    checkBatch(input, n, shape);
    const feed = new ort.Tensor('float32', input, [n, shape.size, shape.size, shape.channels]);
    const result = await session.run({ [ONNX_INPUT]: feed });
    const output = result[ONNX_OUTPUT];
    const data = output.data;
    if (!(data instanceof Float32Array) || data.length !== n * shape.classes) {
      throw new Error(
        `${ONNX_FILE} returned ${output.type} [${output.dims.join(', ')}], expected float32 [${n}, ${shape.classes}]`,
      );
    }
    return data;
  }

  async dispose(): Promise<void> {
    const session = this.session;
    this.session = null;
    this.shape = null;
    if (session) await session.release();
  }
}
