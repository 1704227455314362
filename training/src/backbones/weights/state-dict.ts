/**
 * The in-memory form of a torchvision state dict, whichever file it came from: tensor name ->
 * dtype, shape and raw little-endian bytes (possibly strided, as torch stores views), decoded to
 * a contiguous Float32Array only when a layer asks for it, so big files are not copied twice.
 */
import { WeightFileError } from './errors';

export type TensorDType =
  'float32' | 'float64' | 'float16' | 'bfloat16' | 'int64' | 'int32' | 'int16' | 'int8' | 'uint8' | 'bool';

export const DTYPE_BYTES: Readonly<Record<TensorDType, number>> = {
  float32: 4,
  float64: 8,
  float16: 2,
  bfloat16: 2,
  int64: 8,
  int32: 4,
  int16: 2,
  int8: 1,
  uint8: 1,
  bool: 1,
};

export interface TensorEntry {
  readonly dtype: TensorDType;
  readonly shape: readonly number[];
  /** The values in row-major (C) order as float32. */
  values(): Float32Array;
}

/** Insertion-ordered, like the OrderedDict it comes from. */
export type StateDict = Map<string, TensorEntry>;

export function elementCount(shape: readonly number[]): number {
  return shape.reduce((a, b) => a * b, 1);
}

/** The row-major strides of `shape`, in elements. */
export function contiguousStrides(shape: readonly number[]): number[] {
  const strides = new Array<number>(shape.length);
  let step = 1;
  for (let i = shape.length - 1; i >= 0; i--) {
    strides[i] = step;
    step *= shape[i];
  }
  return strides;
}

/** IEEE half -> float (subnormals, infinities and NaN included). */
function halfToFloat(h: number): number {
  const sign = h & 0x8000 ? -1 : 1;
  const exponent = (h >> 10) & 0x1f;
  const fraction = h & 0x3ff;
  if (exponent === 0) return sign * 2 ** -14 * (fraction / 1024);
  if (exponent === 0x1f) return fraction ? NaN : sign * Infinity;
  return sign * 2 ** (exponent - 15) * (1 + fraction / 1024);
}

/** Decodes `count` little-endian elements of `dtype` starting at `bytes[0]`. */
export function decodeElements(bytes: Uint8Array, dtype: TensorDType, count: number): Float32Array {
  const needed = count * DTYPE_BYTES[dtype];
  if (bytes.length < needed) {
    throw new WeightFileError(`tensor data is truncated: ${bytes.length} bytes for ${count} ${dtype} values`);
  }
  const view = new DataView(bytes.buffer, bytes.byteOffset, needed);
  const out = new Float32Array(count);
  if (dtype === 'float32') {
    // Copy to an aligned buffer: storages inside a file may start at any byte. (Not `bytes.slice`:
    // on a Node Buffer that is a view of the shared pool, not a copy.)
    out.set(new Float32Array(new Uint8Array(bytes.subarray(0, needed)).buffer));
    return out;
  }
  for (let i = 0; i < count; i++) {
    switch (dtype) {
      case 'float64':
        out[i] = view.getFloat64(i * 8, true);
        break;
      case 'float16':
        out[i] = halfToFloat(view.getUint16(i * 2, true));
        break;
      case 'bfloat16':
        out[i] = new Float32Array(new Uint32Array([view.getUint16(i * 2, true) << 16]).buffer)[0];
        break;
      case 'int64':
        out[i] = Number(view.getBigInt64(i * 8, true));
        break;
      case 'int32':
        out[i] = view.getInt32(i * 4, true);
        break;
      case 'int16':
        out[i] = view.getInt16(i * 2, true);
        break;
      case 'int8':
        out[i] = view.getInt8(i);
        break;
      case 'uint8':
      case 'bool':
        out[i] = view.getUint8(i);
        break;
    }
  }
  return out;
}

/**
 * A tensor that is a (possibly strided) view into a flat storage, as torch's `_rebuild_tensor_v2`
 * describes it: element offset, shape and element strides.
 */
export function stridedTensor(
  storage: { bytes: Uint8Array; dtype: TensorDType; numel: number },
  offset: number,
  shape: readonly number[],
  strides: readonly number[],
  name: string,
): TensorEntry {
  const count = elementCount(shape);
  if (shape.length !== strides.length || shape.some((d) => !Number.isInteger(d) || d < 0)) {
    throw new WeightFileError(
      `tensor "${name}": invalid shape [${shape.join(', ')}] / strides [${strides.join(', ')}]`,
    );
  }
  const lastIndex =
    count === 0 ? offset : offset + shape.reduce((sum, d, i) => sum + (d - 1) * strides[i], 0);
  if (lastIndex >= storage.numel && count > 0) {
    throw new WeightFileError(
      `tensor "${name}" reads element ${lastIndex} of a storage holding ${storage.numel} (truncated or corrupt file)`,
    );
  }
  const contiguous = contiguousStrides(shape).every((s, i) => shape[i] === 1 || s === strides[i]);
  return {
    dtype: storage.dtype,
    shape: [...shape],
    values(): Float32Array {
      const bytesPer = DTYPE_BYTES[storage.dtype];
      if (contiguous) {
        return decodeElements(storage.bytes.subarray(offset * bytesPer), storage.dtype, count);
      }
      const span = lastIndex - offset + 1;
      const flat = decodeElements(storage.bytes.subarray(offset * bytesPer), storage.dtype, span);
      const out = new Float32Array(count);
      const index = new Array<number>(shape.length).fill(0);
      for (let i = 0; i < count; i++) {
        let source = 0;
        for (let d = 0; d < shape.length; d++) source += index[d] * strides[d];
        out[i] = flat[source];
        for (let d = shape.length - 1; d >= 0; d--) {
          if (++index[d] < shape[d]) break;
          index[d] = 0;
        }
      }
      return out;
    },
  };
}
