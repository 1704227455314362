/**
 * The Triton config.pbtxt that publishing writes (shared/src/registry/triton.ts) for a real model made
 * by the training workspace's make-model CLI: valid Triton text format, and in agreement with the
 * model.onnx it describes as onnxruntime-node reads it, so `tritonserver --model-repository=models`
 * can serve the registry (README, "Scaling out"). Also runs the model with the largest batch the
 * config lets Triton form.
 */
import { readFile } from 'node:fs/promises';
import path from 'node:path';
import * as ort from 'onnxruntime-node';
import {
  listVersionNumbers,
  METADATA_FILE,
  ONNX_FILE,
  TRITON_CONFIG_FILE,
  tritonConfig,
  type ModelMetadata,
} from '@fer/shared';
import { TEST_INPUT_SIZE, TEST_MODEL, testModels } from '../helpers/test-models';
import {
  parseTritonConfig,
  protocAvailable,
  tritonProblems,
  type TritonModelConfig,
} from './triton-config-check';

const HAS_PROTOC = protocAvailable();
/** CI installs protoc (.ci/run); elsewhere the text-format checks skip with a message. */
const needsProtoc = HAS_PROTOC || process.env.CI ? test : test.skip;
if (!HAS_PROTOC && !process.env.CI) {
  console.warn(
    'protoc not found (apt-get install protobuf-compiler): skipping the Triton config.pbtxt checks',
  );
}

interface Published {
  folder: string;
  metadata: ModelMetadata;
  text: string;
  session: ort.InferenceSession;
}

let published: Published;

beforeAll(async () => {
  const { registry } = await testModels();
  const folder = path.join(registry, TEST_MODEL);
  const version = Math.max(...(await listVersionNumbers(registry, TEST_MODEL)));
  const versionDir = path.join(folder, String(version));
  const metadata = JSON.parse(await readFile(path.join(versionDir, METADATA_FILE), 'utf8')) as ModelMetadata;
  published = {
    folder,
    metadata,
    text: await readFile(path.join(folder, TRITON_CONFIG_FILE), 'utf8'),
    session: await ort.InferenceSession.create(path.join(versionDir, ONNX_FILE)),
  };
});

afterAll(async () => {
  await published?.session.release();
});

needsProtoc('the published config.pbtxt is a Triton ModelConfig that matches the ONNX model', () => {
  const config = parseTritonConfig(published.text);
  expect(tritonProblems(config, published.session, path.basename(published.folder))).toEqual([]);
  expect(config).toMatchObject({
    name: TEST_MODEL,
    platform: 'onnxruntime_onnx',
    input: [{ name: 'input', data_type: 'TYPE_FP32', dims: [TEST_INPUT_SIZE, TEST_INPUT_SIZE, 3] }],
    output: [{ name: 'probabilities', data_type: 'TYPE_FP32', dims: [published.metadata.classes.length] }],
    version_policy: { latest: { num_versions: 1 } },
  });
  expect(config.max_batch_size).toBeGreaterThan(0);
  expect(config.dynamic_batching).not.toBeNull();
});

needsProtoc('the model answers a batch of max_batch_size shaped as the config declares it', async () => {
  const config = parseTritonConfig(published.text);
  const [input] = config.input;
  const [output] = config.output;
  const batch = config.max_batch_size;
  const shape = [batch, ...input.dims];
  const data = new Float32Array(shape.reduce((a, b) => a * b, 1)).map((_, i) => ((i * 7919) % 255) / 255);
  const result = await published.session.run({ [input.name]: new ort.Tensor('float32', data, shape) });
  expect(result[output.name].dims).toEqual([batch, ...output.dims]);
  const probabilities = result[output.name].data as Float32Array;
  const SUM_TOLERANCE = 1e-4;
  for (let row = 0; row < batch; row++) {
    const sum = probabilities
      .subarray(row * output.dims[0], (row + 1) * output.dims[0])
      .reduce((a, b) => a + b, 0);
    expect(Math.abs(sum - 1)).toBeLessThan(SUM_TOLERANCE);
  }
});

needsProtoc('a config for another input size is caught, naming the tensor and both shapes', () => {
  const otherSize = TEST_INPUT_SIZE * 2;
  const metadata: ModelMetadata = {
    ...published.metadata,
    preprocessing: { ...published.metadata.preprocessing, input_size: otherSize },
  };
  const config: TritonModelConfig = parseTritonConfig(tritonConfig(metadata));
  expect(tritonProblems(config, published.session, TEST_MODEL)).toEqual([
    `input "input": dims [${otherSize}, ${otherSize}, 3] but the model has [${TEST_INPUT_SIZE}, ${TEST_INPUT_SIZE}, 3]`,
  ]);
});

needsProtoc('the text-format check rejects unknown fields and enum values', () => {
  const misspelt = published.text.replace('dims:', 'dim:');
  expect(() => parseTritonConfig(misspelt)).toThrow(/no field named "dim"/);
  expect(() => parseTritonConfig(published.text.replace('TYPE_FP32', 'FP32'))).toThrow(/FP32/);
});
