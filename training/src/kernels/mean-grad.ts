/**
 * Mean's gradient over leading axes on the wasm backend: every row of dx is dy / n. TF.js builds
 * it as ones(x.shape) · dy / n (three passes over the activation, one of them a slow broadcast);
 * this writes the rows once, copying the first row by doubling.
 */
import * as tf from '@tensorflow/tfjs';
import type { KernelConfig, KernelFunc, MeanAttrs, TensorInfo } from '@tensorflow/tfjs';
import type { BackendWasm } from '@tensorflow/tfjs-backend-wasm';

import type { WasmGradFunc } from './wasm-gradient';
import { heapF32 } from './wasm-heap';

/** Our kernel: a tensor of `shape` whose every row (last `x.size` elements) equals x. */
export const BROADCAST_ROWS = 'FerBroadcastRows';

function broadcastRows(args: {
  inputs: { x: TensorInfo };
  backend: BackendWasm;
  attrs: { shape: number[] };
}) {
  const { inputs, backend, attrs } = args;
  const out = backend.makeOutput([...attrs.shape], 'float32');
  const rowLength = tf.util.sizeFromShape(inputs.x.shape);
  const total = tf.util.sizeFromShape(attrs.shape);
  const { heap, offset } = heapF32(backend, out);
  const src = heapF32(backend, inputs.x).offset;
  heap.copyWithin(offset, src, src + rowLength);
  for (let filled = rowLength; filled < total; filled *= 2) {
    heap.copyWithin(offset + filled, offset, offset + Math.min(filled, total - filled));
  }
  return out;
}

export const broadcastRowsConfig: KernelConfig = {
  kernelName: BROADCAST_ROWS,
  backendName: 'wasm',
  kernelFunc: broadcastRows as unknown as KernelFunc,
};

/** dx = dy / n on every row; null (TF.js's gradient) unless the reduced axes lead. */
export const meanGradient: WasmGradFunc = (dy, saved, attrs) => {
  const [x] = saved as [tf.Tensor];
  const axes = [...tf.util.parseAxisParam((attrs as unknown as MeanAttrs).axis, x.shape)].sort(
    (a, b) => a - b,
  );
  if (x.dtype !== 'float32' || !axes.every((a, i) => a === i) || axes.length === x.rank) return null;
  const rows = tf.util.sizeFromShape(x.shape.slice(0, axes.length));
  if (rows === 0) return null;
  return {
    x: () => {
      const row = tf.div(dy, rows);
      return tf.engine().runKernel(BROADCAST_ROWS, { x: row }, { shape: x.shape }) as tf.Tensor;
    },
  };
};
