/**
 * NVIDIA Triton model configuration for a registry model folder (DESIGN §8): with it,
 * `tritonserver --model-repository=models` serves the same `model.onnx` files our service runs.
 * One config covers all versions of a model, so it describes the newest and Triton serves only that.
 */
import { rename, writeFile } from 'node:fs/promises';
import path from 'node:path';
import { randomBytes } from 'node:crypto';
import { ONNX_DTYPE, ONNX_INPUT_LAYOUT, ONNX_INPUT_NAME, ONNX_OUTPUT_NAME } from './onnx-contract';
import type { ModelMetadata } from './schema';

export const TRITON_CONFIG_FILE = 'config.pbtxt';

/** Triton's name of the contract's element type. */
const TRITON_DTYPE: Record<typeof ONNX_DTYPE, string> = { float32: 'TYPE_FP32' };

export interface TritonOptions {
  /**
   * Largest batch Triton may form (default 32). Larger than the service's CPU default (BATCH_MAX_SIZE 16):
   * Triton batches the requests of every client of a GPU together. The model's batch dimension is dynamic.
   */
  maxBatchSize?: number;
  /** How long Triton may hold a request to grow a batch, in microseconds. */
  maxQueueDelayMicroseconds?: number;
}

/**
 * The config.pbtxt text for a model whose newest version is described by `metadata`.
 *
 * @example tritonConfig(metadata) // 'name: "resnet152"\nplatform: "onnxruntime_onnx"\n...'
 */
export function tritonConfig(metadata: ModelMetadata, options: TritonOptions = {}): string {
  const size = metadata.preprocessing.input_size;
  const channels = metadata.preprocessing.channels;
  return [
    `name: "${metadata.name}"`,
    'platform: "onnxruntime_onnx"',
    `max_batch_size: ${options.maxBatchSize ?? 32}`,
    'version_policy: { latest: { num_versions: 1 } }',
    'input [',
    '  {',
    `    name: "${ONNX_INPUT_NAME}"`,
    `    data_type: ${TRITON_DTYPE[ONNX_DTYPE]}`,
    `    format: FORMAT_${ONNX_INPUT_LAYOUT}`,
    `    dims: [ ${size}, ${size}, ${channels} ]`,
    '  }',
    ']',
    'output [',
    '  {',
    `    name: "${ONNX_OUTPUT_NAME}"`,
    `    data_type: ${TRITON_DTYPE[ONNX_DTYPE]}`,
    `    dims: [ ${metadata.classes.length} ]`,
    '  }',
    ']',
    'dynamic_batching {',
    `  max_queue_delay_microseconds: ${options.maxQueueDelayMicroseconds ?? 2000}`,
    '}',
    '',
  ].join('\n');
}

/** Writes config.pbtxt into the model folder atomically (temp file + rename). */
export async function writeTritonConfig(
  modelFolder: string,
  metadata: ModelMetadata,
  options?: TritonOptions,
) {
  const target = path.join(modelFolder, TRITON_CONFIG_FILE);
  const temp = path.join(modelFolder, `.${TRITON_CONFIG_FILE}.${randomBytes(4).toString('hex')}`);
  await writeFile(temp, tritonConfig(metadata, options));
  await rename(temp, target);
}
