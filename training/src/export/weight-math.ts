/**
 * The arithmetic of moving TF.js weights into ONNX: kernel layout changes, inference-mode batch
 * norm folded into the layer before it, and TF's 'same' padding as explicit pads. Pure functions
 * of arrays, so they are tested on their own, apart from any model.
 */

/** Inference-mode batch norm as y = x * scale + shift per channel. */
export interface ScaleShift {
  scale: Float64Array;
  shift: Float64Array;
}

export interface BatchNormParams {
  /** null when the layer has `scale: false` (gamma = 1). */
  gamma: Float32Array | null;
  /** null when the layer has `center: false` (beta = 0). */
  beta: Float32Array | null;
  movingMean: Float32Array;
  movingVariance: Float32Array;
  epsilon: number;
}

/**
 * scale = gamma / sqrt(variance + epsilon), shift = beta - mean * scale, in double precision.
 *
 * @example batchNormScaleShift({ gamma: null, beta: null, movingMean: f32([1]), movingVariance: f32([3]), epsilon: 1 })
 *   // scale [0.5], shift [-0.5]
 */
export function batchNormScaleShift(params: BatchNormParams): ScaleShift {
  const channels = params.movingMean.length;
  for (const [label, array] of [
    ['gamma', params.gamma],
    ['beta', params.beta],
    ['moving variance', params.movingVariance],
  ] as const) {
    if (array && array.length !== channels) {
      throw new RangeError(`batch norm ${label} has ${array.length} channels, moving mean has ${channels}`);
    }
  }
  const scale = new Float64Array(channels);
  const shift = new Float64Array(channels);
  for (let c = 0; c < channels; c++) {
    scale[c] = (params.gamma ? params.gamma[c] : 1) / Math.sqrt(params.movingVariance[c] + params.epsilon);
    shift[c] = (params.beta ? params.beta[c] : 0) - params.movingMean[c] * scale[c];
  }
  return { scale, shift };
}

/**
 * Folds a per-output-channel affine map into a kernel whose output channel is the fastest-varying
 * axis (TF.js conv HWIO, depthwise HW(I*M), dense [in, out]) and its bias. Exact up to float32
 * rounding: conv(x, W) * s + t = conv(x, W * s) + (b * s + t).
 *
 * @example foldIntoKernel(f32([1, 2, 3, 4]), null, { scale: f64([2, 3]), shift: f64([1, 0]) })
 *   // kernel [2, 6, 6, 12], bias [1, 0]
 */
export function foldIntoKernel(
  kernel: Float32Array,
  bias: Float32Array | null,
  { scale, shift }: ScaleShift,
): { kernel: Float32Array; bias: Float32Array } {
  const channels = scale.length;
  if (kernel.length % channels !== 0) {
    throw new RangeError(`kernel of ${kernel.length} values does not end in ${channels} output channels`);
  }
  if (bias && bias.length !== channels) {
    throw new RangeError(`bias has ${bias.length} channels, batch norm has ${channels}`);
  }
  const folded = new Float32Array(kernel.length);
  for (let i = 0; i < kernel.length; i++) folded[i] = kernel[i] * scale[i % channels];
  const foldedBias = new Float32Array(channels);
  for (let c = 0; c < channels; c++) foldedBias[c] = (bias ? bias[c] : 0) * scale[c] + shift[c];
  return { kernel: folded, bias: foldedBias };
}

/**
 * TF.js conv kernel [kh, kw, in, out] (HWIO) to ONNX's [out, in, kh, kw] (OIHW).
 *
 * @example hwioToOihw(kernel, [3, 3, 16, 32]) // Float32Array of 4608 values, OIHW order
 */
export function hwioToOihw(
  kernel: Float32Array,
  [kh, kw, cin, cout]: readonly [number, number, number, number],
): Float32Array {
  if (kernel.length !== kh * kw * cin * cout) {
    throw new RangeError(`kernel has ${kernel.length} values, shape [${kh}, ${kw}, ${cin}, ${cout}]`);
  }
  const out = new Float32Array(kernel.length);
  for (let y = 0; y < kh; y++) {
    for (let x = 0; x < kw; x++) {
      for (let i = 0; i < cin; i++) {
        const src = ((y * kw + x) * cin + i) * cout;
        for (let o = 0; o < cout; o++) out[((o * cin + i) * kh + y) * kw + x] = kernel[src + o];
      }
    }
  }
  return out;
}

/**
 * The [before, after] padding TF uses for padding 'same' along one spatial axis: the output has
 * ceil(size / stride) positions and the odd pixel goes after (ONNX's SAME_UPPER).
 *
 * @example samePadding(7, 3, 2, 1) // [1, 1]
 * @example samePadding(8, 3, 2, 1) // [0, 1]
 */
export function samePadding(
  size: number,
  kernel: number,
  stride: number,
  dilation: number,
): [number, number] {
  const out = Math.ceil(size / stride);
  const total = Math.max((out - 1) * stride + (kernel - 1) * dilation + 1 - size, 0);
  const before = Math.floor(total / 2);
  return [before, total - before];
}
