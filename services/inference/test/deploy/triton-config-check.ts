/**
 * Reads a Triton `config.pbtxt` with a real text-format parser (protoc, against the documented
 * ModelConfig fields in fixtures/triton-model-config.proto; protobufjs decodes the result) and compares
 * it with the ONNX model it describes as onnxruntime-node sees it: the checks Triton's ONNX Runtime
 * backend makes when it loads a model (names, element types, dims with or without the batch dimension).
 */
import { execFileSync, spawnSync } from 'node:child_process';
import path from 'node:path';
import type { InferenceSession } from 'onnxruntime-node';
import * as protobuf from 'protobufjs';

export const PROTO_DIR = path.join(__dirname, 'fixtures');
export const PROTO_FILE = 'triton-model-config.proto';
const MESSAGE = 'inference.ModelConfig';

export interface TritonTensor {
  name: string;
  data_type: string;
  format?: string;
  dims: number[];
}

export interface TritonModelConfig {
  name: string;
  platform: string;
  backend: string;
  max_batch_size: number;
  input: TritonTensor[];
  output: TritonTensor[];
  version_policy?: { latest?: { num_versions: number }; all?: object; specific?: { versions: number[] } };
  dynamic_batching?: { max_queue_delay_microseconds: number; preferred_batch_size: number[] };
  default_model_filename: string;
}

/** Triton data types and the names onnxruntime-node gives the same ONNX element types. */
const ORT_TYPES: Record<string, string> = {
  TYPE_BOOL: 'bool',
  TYPE_UINT8: 'uint8',
  TYPE_INT8: 'int8',
  TYPE_INT32: 'int32',
  TYPE_INT64: 'int64',
  TYPE_FP16: 'float16',
  TYPE_FP32: 'float32',
  TYPE_FP64: 'float64',
  TYPE_STRING: 'string',
};

/** True when `protoc` (Debian's protobuf-compiler; .ci/run installs it) is on PATH. */
export function protocAvailable(): boolean {
  return spawnSync('protoc', ['--version'], { stdio: 'ignore' }).status === 0;
}

/**
 * Parses config.pbtxt text; throws protoc's message (line:column and the offending name) when the
 * text is not a valid ModelConfig.
 *
 * @example const config = parseTritonConfig(await readFile('models/tiny/config.pbtxt', 'utf8'));
 */
export function parseTritonConfig(text: string): TritonModelConfig {
  let encoded: Buffer;
  try {
    encoded = execFileSync('protoc', [`--proto_path=${PROTO_DIR}`, `--encode=${MESSAGE}`, PROTO_FILE], {
      input: text,
      stdio: ['pipe', 'pipe', 'pipe'],
    });
  } catch (error) {
    const stderr = String((error as { stderr?: Buffer }).stderr ?? '').trim();
    throw new Error(`config.pbtxt is not a valid Triton ModelConfig: ${stderr || String(error)}`);
  }
  const type = new protobuf.Root()
    .loadSync(path.join(PROTO_DIR, PROTO_FILE), { keepCase: true })
    .lookupType(MESSAGE);
  return type.toObject(type.decode(encoded), {
    enums: String,
    longs: Number,
    defaults: true,
    arrays: true,
  }) as TritonModelConfig;
}

function tensorProblems(
  kind: 'input' | 'output',
  declared: TritonTensor[],
  actual: readonly InferenceSession.ValueMetadata[],
  maxBatchSize: number,
): string[] {
  const problems: string[] = [];
  for (const tensor of declared) {
    const model = actual.find((m) => m.name === tensor.name);
    if (!model || !model.isTensor) {
      problems.push(`${kind} "${tensor.name}" is not a tensor ${kind} of the model`);
      continue;
    }
    if (ORT_TYPES[tensor.data_type] !== model.type) {
      problems.push(`${kind} "${tensor.name}": ${tensor.data_type} but the model has ${model.type}`);
    }
    // With batching, Triton's full shape is [-1, ...dims]: the model's first dimension must be dynamic.
    let shape: readonly (number | string)[] = model.shape;
    if (maxBatchSize > 0) {
      if (typeof shape[0] === 'number' && shape[0] !== -1) {
        problems.push(
          `${kind} "${tensor.name}": max_batch_size > 0 but the model's batch dimension is ${shape[0]}`,
        );
      }
      shape = shape.slice(1);
    }
    const matches =
      shape.length === tensor.dims.length &&
      shape.every((d, i) => tensor.dims[i] === -1 || (typeof d === 'number' && d === tensor.dims[i]));
    if (!matches) {
      problems.push(
        `${kind} "${tensor.name}": dims [${tensor.dims.join(', ')}] but the model has [${shape.join(', ')}]`,
      );
    }
    if (tensor.format && tensor.format !== 'FORMAT_NONE' && tensor.dims.length !== 3) {
      problems.push(`${kind} "${tensor.name}": ${tensor.format} needs 3 dims without the batch`);
    }
  }
  for (const model of actual) {
    if (!declared.some((t) => t.name === model.name))
      problems.push(`the model's ${kind} "${model.name}" is not declared`);
  }
  return problems;
}

/**
 * Everything in `config` that Triton would reject when loading the ONNX model of `session` from the
 * model folder `folderName`; an empty list when they agree.
 *
 * @example tritonProblems(config, await InferenceSession.create('models/tiny/1/model.onnx'), 'tiny') // []
 */
export function tritonProblems(
  config: TritonModelConfig,
  session: InferenceSession,
  folderName: string,
): string[] {
  const problems: string[] = [];
  if (config.name !== '' && config.name !== folderName) {
    problems.push(`name "${config.name}" differs from the model folder "${folderName}"`);
  }
  if (config.platform !== 'onnxruntime_onnx' && config.backend !== 'onnxruntime') {
    problems.push(`platform "${config.platform}" / backend "${config.backend}" is not ONNX Runtime`);
  }
  if (config.max_batch_size < 0) problems.push(`max_batch_size ${config.max_batch_size} is negative`);
  if (config.dynamic_batching && config.max_batch_size === 0) {
    problems.push('dynamic_batching needs max_batch_size > 0');
  }
  problems.push(...tensorProblems('input', config.input, session.inputMetadata, config.max_batch_size));
  problems.push(...tensorProblems('output', config.output, session.outputMetadata, config.max_batch_size));
  return problems;
}
