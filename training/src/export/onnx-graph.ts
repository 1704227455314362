/**
 * A small builder for ONNX graphs over onnx-proto's message types: unique value names, nodes with
 * typed attributes, float32/int64 initializers stored as raw little-endian bytes (compact and fast
 * to encode for models with tens of millions of weights), and the final ModelProto bytes.
 * It knows nothing about TF.js; the layer translation feeds it.
 */
import { createHash } from 'node:crypto';
import os from 'node:os';
import { onnx } from 'onnx-proto';

/** A dimension: a fixed size or a symbolic name (e.g. 'N' for a dynamic batch). */
export type Dim = number | string;

export type AttributeValue =
  | { kind: 'int'; value: number }
  | { kind: 'ints'; value: readonly number[] }
  | { kind: 'float'; value: number }
  | { kind: 'string'; value: string };

export const attr = {
  int: (value: number): AttributeValue => ({ kind: 'int', value }),
  ints: (value: readonly number[]): AttributeValue => ({ kind: 'ints', value }),
  float: (value: number): AttributeValue => ({ kind: 'float', value }),
  string: (value: string): AttributeValue => ({ kind: 'string', value }),
};

function toAttribute(name: string, value: AttributeValue): onnx.IAttributeProto {
  const type = onnx.AttributeProto.AttributeType;
  switch (value.kind) {
    case 'int':
      return { name, type: type.INT, i: value.value };
    case 'ints':
      return { name, type: type.INTS, ints: [...value.value] };
    case 'float':
      return { name, type: type.FLOAT, f: value.value };
    case 'string':
      return { name, type: type.STRING, s: new TextEncoder().encode(value.value) };
  }
}

function valueInfo(name: string, dims: readonly Dim[]): onnx.IValueInfoProto {
  return {
    name,
    type: {
      tensorType: {
        elemType: onnx.TensorProto.DataType.FLOAT,
        shape: { dim: dims.map((d) => (typeof d === 'number' ? { dimValue: d } : { dimParam: d })) },
      },
    },
  };
}

/** Raw bytes of a typed array in the little-endian order ONNX stores (no copy on LE hosts). */
function littleEndianBytes(data: Float32Array | BigInt64Array): Uint8Array {
  if (os.endianness() !== 'LE') throw new Error('ONNX export needs a little-endian host');
  return new Uint8Array(data.buffer, data.byteOffset, data.byteLength);
}

function reserve(taken: Set<string>, base: string): string {
  let name = base;
  for (let i = 1; taken.has(name); i++) name = `${base}_${i}`;
  taken.add(name);
  return name;
}

export interface ModelInfo {
  opset: number;
  producerName: string;
  producerVersion: string;
  docString?: string;
  metadata?: Readonly<Record<string, string>>;
}

/**
 * Accumulates one graph. Node order is insertion order, so callers add nodes in topological order.
 *
 * @example
 * const g = new OnnxGraph('tiny');
 * const y = g.node('Relu', [g.input('x', ['N', 4])])[0];
 * g.output(y, 'y', ['N', 4]);
 * const bytes = g.encode({ opset: 17, producerName: 'me', producerVersion: '1' });
 */
export class OnnxGraph {
  readonly nodes: onnx.INodeProto[] = [];
  readonly initializers: onnx.ITensorProto[] = [];
  private readonly inputs: onnx.IValueInfoProto[] = [];
  private readonly outputs: onnx.IValueInfoProto[] = [];
  /** Value names and node names are separate namespaces in ONNX. */
  private readonly used = new Set<string>();
  private readonly nodeNames = new Set<string>();
  /** Initializers by requested name and content: a layer applied twice asks for its weights twice. */
  private readonly constants = new Map<string, string>();

  constructor(readonly name: string) {}

  /** `base` if unused, else `base_1`, `base_2`...; reserves the returned value name. */
  uniqueName(base: string): string {
    return reserve(this.used, base);
  }

  /** Declares a float32 graph input and returns its value name. */
  input(name: string, dims: readonly Dim[]): string {
    const unique = this.uniqueName(name);
    if (unique !== name) throw new Error(`graph input name "${name}" is already taken`);
    this.inputs.push(valueInfo(name, dims));
    return name;
  }

  /** Makes the value `value` a float32 graph output called `name` (renaming it where it is produced). */
  output(value: string, name: string, dims: readonly Dim[]): void {
    if (value !== name) this.rename(value, name);
    this.outputs.push(valueInfo(name, dims));
  }

  /** Adds a float32 initializer and returns its (unique) value name. */
  floatTensor(name: string, dims: readonly number[], data: Float32Array): string {
    const expected = dims.reduce((a, b) => a * b, 1);
    if (data.length !== expected) {
      throw new RangeError(`initializer ${name}: ${data.length} values for dims [${dims.join(', ')}]`);
    }
    return this.constant(name, dims, onnx.TensorProto.DataType.FLOAT, littleEndianBytes(data));
  }

  /** Adds a 1-D int64 initializer (shapes, pads, axes) and returns its value name. */
  int64Tensor(name: string, values: readonly number[]): string {
    const data = littleEndianBytes(BigInt64Array.from(values, (v) => BigInt(v)));
    return this.constant(name, [values.length], onnx.TensorProto.DataType.INT64, data);
  }

  /**
   * An initializer, stored once: the same name asked for again with the same contents (a shared
   * layer, once per application) gets the first one's value name back.
   */
  private constant(name: string, dims: readonly number[], dataType: number, rawData: Uint8Array): string {
    const key = `${name}|${dataType}|${dims.join(',')}|${createHash('sha256').update(rawData).digest('hex')}`;
    const existing = this.constants.get(key);
    if (existing !== undefined) return existing;
    const unique = this.uniqueName(name);
    this.initializers.push({ name: unique, dims: [...dims], dataType, rawData });
    this.constants.set(key, unique);
    return unique;
  }

  /**
   * Appends a node; output names default to unique names derived from `name` (or the op type).
   * Returns the output value names. An empty input name stands for an omitted optional input.
   */
  node(
    opType: string,
    inputs: readonly string[],
    options: { name?: string; outputs?: readonly string[]; attributes?: Record<string, AttributeValue> } = {},
  ): string[] {
    const nodeName = reserve(this.nodeNames, options.name ?? opType);
    const outputs = options.outputs
      ? options.outputs.map((o) => this.uniqueName(o))
      : [this.uniqueName(options.name ?? opType)];
    const attribute = Object.entries(options.attributes ?? {}).map(([k, v]) => toAttribute(k, v));
    this.nodes.push({ opType, name: nodeName, input: [...inputs], output: outputs, attribute });
    return outputs;
  }

  /** Renames a value everywhere it is produced or consumed. */
  private rename(from: string, to: string): void {
    if (this.used.has(to)) throw new Error(`cannot name graph output "${to}": the name is already taken`);
    this.used.add(to);
    if (this.inputs.some((i) => i.name === from)) {
      // An input cannot also be the output under another name; route it through Identity.
      this.nodes.push({
        opType: 'Identity',
        name: reserve(this.nodeNames, to),
        input: [from],
        output: [to],
        attribute: [],
      });
      return;
    }
    for (const node of this.nodes) {
      node.input = (node.input ?? []).map((n) => (n === from ? to : n));
      node.output = (node.output ?? []).map((n) => (n === from ? to : n));
    }
  }

  /** The model as ONNX protobuf bytes. */
  encode(info: ModelInfo): Uint8Array {
    const model: onnx.IModelProto = {
      irVersion: onnx.Version.IR_VERSION,
      opsetImport: [{ domain: '', version: info.opset }],
      producerName: info.producerName,
      producerVersion: info.producerVersion,
      docString: info.docString ?? '',
      metadataProps: Object.entries(info.metadata ?? {}).map(([key, value]) => ({ key, value })),
      graph: {
        name: this.name,
        node: this.nodes,
        initializer: this.initializers,
        input: this.inputs,
        output: this.outputs,
      },
    };
    return onnx.ModelProto.encode(model).finish();
  }
}
