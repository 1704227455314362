/**
 * A published model's `model.onnx` run with onnxruntime-node on the CPU, the way the service's
 * default runtime runs it: NHWC float32 [n, S, S, 3] in, [n, classes] probabilities out (the
 * registry's ONNX contract, from @fer/shared). Training may not import the service, so it holds
 * its own thin copy of that call.
 */
import { performance } from 'node:perf_hooks';
import * as ort from 'onnxruntime-node';
import { ONNX_DTYPE, ONNX_OUTPUT_NAME, type PreprocessSpec } from '@fer/shared';
import { batchRanges, buildBatch } from '../data/batches';
import type { PixelSet } from '../data/pixel-cache';

export interface OnnxClassifierOptions {
  /** Intra-op threads; onnxruntime's default (all cores) when absent. */
  threads?: number;
}

export class OnnxClassifier {
  private constructor(
    private readonly session: ort.InferenceSession,
    readonly inputSize: number,
    readonly numClasses: number,
  ) {}

  /**
   * Opens a model file.
   *
   * @example const classifier = await OnnxClassifier.load('models/resnet152/3/model.onnx', 64, 6);
   */
  static async load(
    file: string,
    inputSize: number,
    numClasses: number,
    options: OnnxClassifierOptions = {},
  ): Promise<OnnxClassifier> {
    const session = await ort.InferenceSession.create(file, {
      executionProviders: ['cpu'],
      graphOptimizationLevel: 'all',
      ...(options.threads ? { intraOpNumThreads: options.threads } : {}),
    });
    return new OnnxClassifier(session, inputSize, numClasses);
  }

  /**
   * Probabilities of `n` normalized NHWC images, row-major [n, classes].
   *
   * @example const probs = await classifier.run(batch.x, batch.n);
   */
  async run(input: Float32Array, n: number): Promise<Float32Array> {
    const s = this.inputSize;
    if (input.length !== n * s * s * 3)
      throw new RangeError(`expected ${n}x${s}x${s}x3 floats, got ${input.length}`);
    const feeds = { [this.session.inputNames[0]]: new ort.Tensor(ONNX_DTYPE, input, [n, s, s, 3]) };
    const outputName = this.session.outputNames.includes(ONNX_OUTPUT_NAME)
      ? ONNX_OUTPUT_NAME
      : this.session.outputNames[0];
    const result = await this.session.run(feeds);
    const out = result[outputName];
    const data = out.data as Float32Array;
    if (data.length !== n * this.numClasses) {
      throw new Error(
        `the model returned ${data.length} values for ${n} images of ${this.numClasses} classes`,
      );
    }
    const copy = Float32Array.from(data);
    for (const tensor of Object.values(result)) tensor.dispose();
    return copy;
  }

  /**
   * Probabilities of every image of a cached set, [set.count, classes] in set order.
   *
   * @example const probs = await classifier.classifySet(set, spec, 64);
   */
  async classifySet(set: PixelSet, spec: PreprocessSpec, batchSize: number): Promise<Float32Array> {
    const probabilities = new Float32Array(set.count * this.numClasses);
    const indices = Int32Array.from({ length: set.count }, (_, i) => i);
    for (const [start, end] of batchRanges(set.count, batchSize)) {
      const batch = buildBatch(set, indices.subarray(start, end), spec);
      probabilities.set(await this.run(batch.x, batch.n), start * this.numClasses);
    }
    return probabilities;
  }

  /**
   * Median milliseconds per single-image call after a warm-up, the latency a request without
   * batching sees.
   *
   * @example await classifier.latencyMs({ runs: 20 }) // 4.2
   */
  async latencyMs(options: { warmup?: number; runs?: number } = {}): Promise<number> {
    const s = this.inputSize;
    const input = new Float32Array(s * s * 3);
    for (let i = 0; i < (options.warmup ?? 3); i++) await this.run(input, 1);
    const times: number[] = [];
    for (let i = 0; i < (options.runs ?? 20); i++) {
      const t0 = performance.now();
      await this.run(input, 1);
      times.push(performance.now() - t0);
    }
    times.sort((a, b) => a - b);
    const mid = times.length >> 1;
    return times.length % 2 === 1 ? times[mid] : (times[mid - 1] + times[mid]) / 2;
  }

  /**
   * Images per second through `run` at a fixed batch size: calls on a zero batch (the cost does
   * not depend on the pixels) after a warm-up, until both `minSeconds` and `minCalls` are reached.
   *
   * @example await classifier.cropsPerSecond(32) // 850
   */
  async cropsPerSecond(
    batchSize: number,
    options: { warmup?: number; minSeconds?: number; minCalls?: number } = {},
  ): Promise<number> {
    const s = this.inputSize;
    const input = new Float32Array(batchSize * s * s * 3);
    for (let i = 0; i < (options.warmup ?? 2); i++) await this.run(input, batchSize);
    const minMs = (options.minSeconds ?? 1.5) * 1000;
    const minCalls = options.minCalls ?? 5;
    const t0 = performance.now();
    let calls = 0;
    while (calls < minCalls || performance.now() - t0 < minMs) {
      await this.run(input, batchSize);
      calls++;
    }
    return (calls * batchSize * 1000) / (performance.now() - t0);
  }

  async dispose(): Promise<void> {
    await this.session.release();
  }
}

/**
 * Opens `file` for `use` and closes it afterwards, whatever `use` does.
 *
 * @example const probs = await withOnnxClassifier(file, 64, 6, (c) => c.classifySet(set, spec, 64));
 */
export async function withOnnxClassifier<T>(
  file: string,
  inputSize: number,
  numClasses: number,
  use: (classifier: OnnxClassifier) => Promise<T>,
): Promise<T> {
  const classifier = await OnnxClassifier.load(file, inputSize, numClasses);
  try {
    return await use(classifier);
  } finally {
    await classifier.dispose();
  }
}
