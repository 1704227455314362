/**
 * Reads `.safetensors` files (huggingface's format: an 8-byte little-endian header length, a JSON
 * header `{ name: { dtype, shape, data_offsets } }`, then raw little-endian tensor bytes). The
 * format is small and fixed, so parsing it here avoids a dependency.
 */
import { WeightFileError } from './errors';
import {
  DTYPE_BYTES,
  contiguousStrides,
  elementCount,
  stridedTensor,
  type StateDict,
  type TensorDType,
} from './state-dict';

const SAFETENSORS_DTYPES: Readonly<Record<string, TensorDType>> = {
  F32: 'float32',
  F64: 'float64',
  F16: 'float16',
  BF16: 'bfloat16',
  I64: 'int64',
  I32: 'int32',
  I16: 'int16',
  I8: 'int8',
  U8: 'uint8',
  BOOL: 'bool',
};

/** The spec caps the header at 100 MB; a larger length means the file is not safetensors. */
const MAX_HEADER_BYTES = 100_000_000;

interface HeaderEntry {
  dtype: string;
  shape: number[];
  data_offsets: [number, number];
}

function isHeaderEntry(value: unknown): value is HeaderEntry {
  const entry = value as HeaderEntry;
  return (
    typeof entry === 'object' &&
    entry !== null &&
    typeof entry.dtype === 'string' &&
    Array.isArray(entry.shape) &&
    entry.shape.every((d) => Number.isInteger(d) && d >= 0) &&
    Array.isArray(entry.data_offsets) &&
    entry.data_offsets.length === 2 &&
    entry.data_offsets.every((o) => Number.isInteger(o) && o >= 0)
  );
}

/**
 * Parses a safetensors file into a state dict (tensors keep the file's order of offsets).
 *
 * @example const dict = readSafetensors(fs.readFileSync('resnet152.safetensors'), 'resnet152.safetensors');
 * @throws WeightFileError naming the problem (bad header, unknown dtype, tensor outside the file...).
 */
export function readSafetensors(bytes: Uint8Array, source = 'safetensors file'): StateDict {
  if (bytes.length < 8) throw new WeightFileError(`${source}: too short for a safetensors header`);
  const view = new DataView(bytes.buffer, bytes.byteOffset, bytes.byteLength);
  const headerLength = Number(view.getBigUint64(0, true));
  if (headerLength > MAX_HEADER_BYTES || 8 + headerLength > bytes.length) {
    throw new WeightFileError(
      `${source}: header length ${headerLength} exceeds the file (truncated or not safetensors)`,
    );
  }
  let header: Record<string, unknown>;
  try {
    header = JSON.parse(
      new TextDecoder('utf-8', { fatal: true }).decode(bytes.subarray(8, 8 + headerLength)),
    );
  } catch (error) {
    throw new WeightFileError(`${source}: the header is not valid JSON`, { cause: error });
  }
  if (typeof header !== 'object' || header === null || Array.isArray(header)) {
    throw new WeightFileError(`${source}: the header is not a JSON object`);
  }
  const data = bytes.subarray(8 + headerLength);
  const entries = Object.entries(header).filter(([name]) => name !== '__metadata__');
  entries.sort(([, a], [, b]) => (a as HeaderEntry).data_offsets?.[0] - (b as HeaderEntry).data_offsets?.[0]);
  const dict: StateDict = new Map();
  for (const [name, entry] of entries) {
    if (!isHeaderEntry(entry))
      throw new WeightFileError(`${source}: tensor "${name}" has a malformed header entry`);
    const dtype = SAFETENSORS_DTYPES[entry.dtype];
    if (!dtype) throw new WeightFileError(`${source}: tensor "${name}" has unsupported dtype ${entry.dtype}`);
    const [begin, end] = entry.data_offsets;
    const numel = elementCount(entry.shape);
    if (end - begin !== numel * DTYPE_BYTES[dtype]) {
      throw new WeightFileError(
        `${source}: tensor "${name}" spans ${end - begin} bytes but [${entry.shape.join(', ')}] ${dtype} needs ${numel * DTYPE_BYTES[dtype]}`,
      );
    }
    if (end > data.length) {
      throw new WeightFileError(
        `${source}: tensor "${name}" ends at byte ${end} of ${data.length} (truncated file)`,
      );
    }
    const storage = { dtype, numel, bytes: data.subarray(begin, end) };
    dict.set(name, stridedTensor(storage, 0, entry.shape, contiguousStrides(entry.shape), name));
  }
  return dict;
}
