// Both runtimes on a real small model from the test registry (resnet-tiny, made by make-model):
// loading and warm-up, batch results, agreement with each other, input checks, metadata checks,
// no TF.js tensor leak, and the ONNX session settings.
import { cp, mkdtemp, readFile, rm, writeFile } from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import * as tf from '@tensorflow/tfjs';
import { METADATA_FILE, type ModelMetadata } from '@fer/shared';
import {
  createInProcessRuntime,
  InvalidBatchError,
  onnxSessionOptions,
  RUNTIME_KINDS,
  TfjsRuntime,
  type InferenceRuntime,
} from '../../src/runtime';
import { TEST_INPUT_SIZE, TEST_MODEL, testModels } from '../helpers/test-models';

/** The parity bound between the two runtimes on the same weights. */
const PARITY_TOLERANCE = 1e-4;
/** float32 softmax rows sum to one within a few ulps. */
const ROW_SUM_TOLERANCE = 1e-5;
/** make-model of the template registry, when this file runs without the global setup. */
const SETUP_TIMEOUT_MS = 120_000;
const IMAGE_LENGTH = TEST_INPUT_SIZE * TEST_INPUT_SIZE * 3;
const CLASSES = 6;

let versionDir: string;
let metadata: ModelMetadata;

beforeAll(async () => {
  const { registry } = await testModels();
  versionDir = path.join(registry, TEST_MODEL, '1');
  metadata = JSON.parse(await readFile(path.join(versionDir, METADATA_FILE), 'utf8')) as ModelMetadata;
}, SETUP_TIMEOUT_MS);

/** A deterministic batch of `n` images in roughly the normalized input range. */
function batch(n: number, seed: number): Float32Array {
  const out = new Float32Array(n * IMAGE_LENGTH);
  let state = seed;
  for (let i = 0; i < out.length; i++) {
    state = (state * 1103515245 + 12345) % 2147483648;
    out[i] = (state / 2147483648) * 4 - 2;
  }
  return out;
}

async function loaded(kind: (typeof RUNTIME_KINDS)[number]): Promise<InferenceRuntime> {
  const runtime = createInProcessRuntime(kind, { device: 'cpu', threads: 2, tfjsBackend: 'wasm' });
  await runtime.load(versionDir, metadata);
  return runtime;
}

describe.each(RUNTIME_KINDS)('%s runtime', (kind) => {
  let runtime: InferenceRuntime;
  beforeAll(async () => {
    runtime = await loaded(kind);
  });
  afterAll(async () => {
    await runtime.dispose();
  });

  it('reports its kind', () => {
    expect(runtime.kind).toBe(kind);
  });

  it.each([1, 4])('returns a probability row per image for a batch of %i', async (n) => {
    const output = await runtime.run(batch(n, n), n);
    expect(output).toBeInstanceOf(Float32Array);
    expect(output.length).toBe(n * CLASSES);
    for (let row = 0; row < n; row++) {
      const values = Array.from(output.subarray(row * CLASSES, (row + 1) * CLASSES));
      values.forEach((v) => expect(v).toBeGreaterThanOrEqual(0));
      expect(Math.abs(values.reduce((a, b) => a + b, 0) - 1)).toBeLessThan(ROW_SUM_TOLERANCE);
    }
  });

  it('answers each image as it would alone (rows do not mix)', async () => {
    const images = batch(3, 42);
    const together = await runtime.run(images, 3);
    const alone = await runtime.run(images.slice(IMAGE_LENGTH, 2 * IMAGE_LENGTH), 1);
    const row = Array.from(together.subarray(CLASSES, 2 * CLASSES));
    row.forEach((v, i) => expect(Math.abs(v - alone[i])).toBeLessThan(PARITY_TOLERANCE));
  });

  it('rejects a batch of the wrong size with the expected layout in the message', async () => {
    await expect(runtime.run(new Float32Array(IMAGE_LENGTH + 3), 1)).rejects.toThrow(InvalidBatchError);
    await expect(runtime.run(new Float32Array(IMAGE_LENGTH), 2)).rejects.toThrow(
      `expected 2 x ${TEST_INPUT_SIZE} x ${TEST_INPUT_SIZE} x 3 = ${2 * IMAGE_LENGTH} floats (NHWC), got ${IMAGE_LENGTH}`,
    );
    await expect(runtime.run(new Float32Array(0), 0)).rejects.toThrow(
      /batch size must be a positive integer/,
    );
  });

  it('refuses to run before load and after dispose', async () => {
    const fresh = createInProcessRuntime(kind, { device: 'cpu' });
    await expect(fresh.run(batch(1, 1), 1)).rejects.toThrow(/no model loaded/);
    await fresh.load(versionDir, metadata);
    await fresh.dispose();
    await expect(fresh.run(batch(1, 1), 1)).rejects.toThrow(/no model loaded/);
  });

  it('refuses a model whose files disagree with metadata.json', async () => {
    const wrong: ModelMetadata = {
      ...metadata,
      preprocessing: { ...metadata.preprocessing, input_size: TEST_INPUT_SIZE + 16 },
    };
    const fresh = createInProcessRuntime(kind, { device: 'cpu' });
    await expect(fresh.load(versionDir, wrong)).rejects.toThrow(
      new RegExp(
        `input is \\[N, ${TEST_INPUT_SIZE}, ${TEST_INPUT_SIZE}, 3\\], metadata.json says \\[N, 48, 48, 3\\]`,
      ),
    );
    await fresh.dispose();
  });

  it('names the missing file of a broken version', async () => {
    const broken = await mkdtemp(path.join(os.tmpdir(), 'fer-runtime-broken-'));
    try {
      await cp(versionDir, broken, { recursive: true });
      const file = kind === 'onnx' ? 'model.onnx' : path.join('tfjs', 'model.json');
      await writeFile(path.join(broken, file), 'not a model');
      const fresh = createInProcessRuntime(kind, { device: 'cpu' });
      await expect(fresh.load(broken, metadata)).rejects.toThrow(
        kind === 'onnx' ? /cannot load model.onnx/ : /model.json/,
      );
      await fresh.dispose();
    } finally {
      await rm(broken, { recursive: true, force: true });
    }
  });
});

describe('onnx and tfjs runtimes', () => {
  it('give the same probabilities for the same weights', async () => {
    const [onnx, tfjs] = await Promise.all([loaded('onnx'), loaded('tfjs')]);
    const images = batch(5, 7);
    const a = await onnx.run(images, 5);
    const b = await tfjs.run(images, 5);
    let max = 0;
    for (let i = 0; i < a.length; i++) max = Math.max(max, Math.abs(a[i] - b[i]));
    expect(max).toBeLessThanOrEqual(PARITY_TOLERANCE);
    await Promise.all([onnx.dispose(), tfjs.dispose()]);
  });
});

describe('tfjs runtime memory', () => {
  it('leaves no tensor behind across runs and frees the model on dispose', async () => {
    const before = tf.memory().numTensors;
    const runtime = new TfjsRuntime({ device: 'cpu', tfjsBackend: 'wasm' });
    await runtime.load(versionDir, metadata);
    expect(runtime.backend?.name).toBe('wasm');
    const afterLoad = tf.memory().numTensors;
    expect(afterLoad).toBeGreaterThan(before); // the weights
    for (const n of [1, 3, 8]) await runtime.run(batch(n, n), n);
    await expect(runtime.run(new Float32Array(5), 1)).rejects.toThrow(InvalidBatchError);
    expect(tf.memory().numTensors).toBe(afterLoad);
    await runtime.dispose();
    expect(tf.memory().numTensors).toBe(before);
  });

  it('honours an explicit backend', async () => {
    const runtime = new TfjsRuntime({ device: 'cpu', tfjsBackend: 'cpu' });
    await runtime.load(versionDir, metadata);
    expect(runtime.backend?.name).toBe('cpu');
    expect(tf.getBackend()).toBe('cpu');
    await runtime.dispose();
  });
});

describe('onnx session settings', () => {
  it('uses every available core on the CPU provider with all graph optimizations by default', () => {
    expect(onnxSessionOptions({ device: 'cpu' })).toMatchObject({
      executionProviders: ['cpu'],
      intraOpNumThreads: os.availableParallelism(),
      graphOptimizationLevel: 'all',
    });
    expect(onnxSessionOptions({ device: 'cpu', threads: 3 }).intraOpNumThreads).toBe(3);
  });

  it('asks for the CUDA provider when configured, and explains when it is missing', async () => {
    expect(onnxSessionOptions({ device: 'cuda' }).executionProviders).toEqual([
      { name: 'cuda', deviceId: 0 },
    ]);
    const runtime = createInProcessRuntime('onnx', { device: 'cuda' });
    // CPU-only hosts (CI) lack the CUDA provider library; GPU hosts with cuda12 binaries load it.
    const outcome = await runtime.load(versionDir, metadata).then(
      () => 'loaded',
      (error: Error) => error.message,
    );
    if (outcome !== 'loaded')
      expect(outcome).toMatch(/CUDA execution provider is not available \(DEVICE=cuda\).*cuda12/);
    await runtime.dispose();
  });
});
