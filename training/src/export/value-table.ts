/**
 * Which ONNX value holds each TF.js tensor, and in which memory layout. TF.js layers are NHWC;
 * ONNX convolutions and pools are NCHW. A 4-D tensor can exist in either layout and is transposed
 * only when a consumer needs the other one (once, then cached), so a conv stack stays NCHW inside
 * and the graph keeps its NHWC interface.
 */
import type * as tf from '@tensorflow/tfjs';
import type { OnnxGraph } from './onnx-graph';

/** 'keras': the axis order TF.js uses (NHWC for images); 'nchw': channels-first, 4-D only. */
export type Layout = 'keras' | 'nchw';

/** perm for Transpose: NHWC -> NCHW and back. */
const TO_NCHW = [0, 3, 1, 2] as const;
const TO_NHWC = [0, 2, 3, 1] as const;

/** A ZeroPadding2D whose pads were handed to its only consumer instead of becoming a Pad node. */
export interface DeferredPadding {
  source: tf.SymbolicTensor;
  /** [top, bottom, left, right] */
  pads: readonly [number, number, number, number];
}

interface Entry {
  rank: number;
  names: Partial<Record<Layout, string>>;
  deferred?: DeferredPadding;
}

/**
 * Maps a Keras axis (negative counts from the end) to the axis of the same data in `layout`.
 *
 * @example layoutAxis(-1, 4, 'nchw') // 1: channels
 */
export function layoutAxis(axis: number, rank: number, layout: Layout): number {
  const positive = axis < 0 ? axis + rank : axis;
  if (positive < 0 || positive >= rank) throw new RangeError(`axis ${axis} is out of range for rank ${rank}`);
  return layout === 'nchw' ? TO_NCHW.indexOf(positive as 0 | 1 | 2 | 3) : positive;
}

export class ValueTable {
  private readonly entries = new Map<number, Entry>();

  constructor(private readonly graph: OnnxGraph) {}

  /** Records that `tensor` is held by ONNX value `name` in `layout`. */
  define(tensor: tf.SymbolicTensor, layout: Layout, name: string): void {
    if (layout === 'nchw' && tensor.shape.length !== 4) {
      throw new Error(`internal: ${tensor.name} has rank ${tensor.shape.length}, nchw needs 4`);
    }
    const entry = this.entries.get(tensor.id) ?? { rank: tensor.shape.length, names: {} };
    entry.names[layout] = name;
    this.entries.set(tensor.id, entry);
  }

  /** `tensor` is the same data as `from` (inference-time identities such as Dropout). */
  alias(tensor: tf.SymbolicTensor, from: tf.SymbolicTensor): void {
    const entry = this.require(from);
    this.entries.set(tensor.id, { rank: entry.rank, names: entry.names, deferred: entry.deferred });
  }

  /** `tensor` is `source` zero-padded by `pads`; its consumer applies the padding itself. */
  defer(tensor: tf.SymbolicTensor, padding: DeferredPadding): void {
    this.entries.set(tensor.id, { rank: tensor.shape.length, names: {}, deferred: padding });
  }

  /** Whether the layer making `tensor` has been translated (as a value or a deferred padding). */
  has(tensor: tf.SymbolicTensor): boolean {
    return this.entries.has(tensor.id);
  }

  deferredPadding(tensor: tf.SymbolicTensor): DeferredPadding | undefined {
    return this.require(tensor).deferred;
  }

  /** The layout to compute in: 'nchw' when every input is 4-D and already there, else 'keras'. */
  preferredLayout(tensors: readonly tf.SymbolicTensor[]): Layout {
    return tensors.every((t) => this.require(t).names.nchw !== undefined) ? 'nchw' : 'keras';
  }

  /** The ONNX value of `tensor` in `layout`, adding (and caching) a Transpose when needed. */
  get(tensor: tf.SymbolicTensor, layout: Layout): string {
    const entry = this.require(tensor);
    if (entry.deferred) throw new Error(`internal: ${tensor.name} is a deferred padding, not a value`);
    const existing = entry.names[layout];
    if (existing !== undefined) return existing;
    if (entry.rank !== 4) {
      if (layout === 'nchw') throw new Error(`internal: ${tensor.name} has rank ${entry.rank}, nchw needs 4`);
      throw new Error(`internal: ${tensor.name} has no value`);
    }
    const other: Layout = layout === 'nchw' ? 'keras' : 'nchw';
    const from = entry.names[other];
    if (from === undefined) throw new Error(`internal: ${tensor.name} has no value`);
    const perm = layout === 'nchw' ? TO_NCHW : TO_NHWC;
    const [name] = this.graph.node('Transpose', [from], {
      name: `${from}.${layout === 'nchw' ? 'nchw' : 'nhwc'}`,
      attributes: { perm: { kind: 'ints', value: perm } },
    });
    entry.names[layout] = name;
    return name;
  }

  private require(tensor: tf.SymbolicTensor): Entry {
    const entry = this.entries.get(tensor.id);
    if (!entry) throw new Error(`internal: tensor ${tensor.name} is used before the layer making it`);
    return entry;
  }
}
