// The file readers against torch itself: every float dtype, non-contiguous tensors and views
// sharing one storage (zip and legacy torch.save), and the unpickler on plain values pickled by
// Python with protocols 2 and 5. Fixtures by make_torch_fixtures.py.
import { readSafetensors, readStateDict, readTorchStateDict, WeightFileError } from '../../../src/backbones';
import { PickleGlobal, unpickle, type UnpicklerHooks } from '../../../src/backbones/weights/pickle';
import { fixtureBytes, readJsonFixture } from '../fixtures';

type DTypeFixture = Record<string, { dtype: string; shape: number[]; values: number[] }>;

const expectedTensors = readJsonFixture<DTypeFixture>('dtypes.json');
const pickles = readJsonFixture<Record<'protocol2' | 'protocol5', string>>('pickles.json');

const NO_OBJECTS: UnpicklerHooks = {
  reduce: (callable, args) => {
    // Protocol 2 has no bytes opcode: Python writes bytes as _codecs.encode(latin-1 text, 'latin1').
    if ((callable as PickleGlobal).qualifiedName === '_codecs.encode') {
      return new Uint8Array(Buffer.from(args[0] as string, 'latin1'));
    }
    throw new Error(`unexpected REDUCE of ${(callable as PickleGlobal).qualifiedName}`);
  },
  persistentLoad: () => {
    throw new Error('unexpected persistent id');
  },
  build: () => {
    throw new Error('unexpected BUILD');
  },
};

describe.each(['dtypes.pth', 'dtypes-legacy.pth'])('%s', (file) => {
  const dict = readTorchStateDict(fixtureBytes(file), file);

  it('holds the keys torch saved, in order', () => {
    expect([...dict.keys()]).toEqual(Object.keys(expectedTensors));
  });

  it.each(Object.keys(expectedTensors))('decodes %s exactly (dtype, shape, strides, offset)', (key) => {
    const tensor = dict.get(key);
    const expected = expectedTensors[key];
    expect(tensor?.dtype).toBe(expected.dtype);
    expect(tensor?.shape).toEqual(expected.shape);
    expect(Array.from(tensor?.values() ?? [])).toEqual(expected.values);
  });
});

describe('unpickle', () => {
  it.each(['protocol2', 'protocol5'] as const)('reads plain values pickled with %s', (protocol) => {
    const bytes = Buffer.from(pickles[protocol], 'hex');
    const { value, end } = unpickle(bytes, NO_OBJECTS);
    expect(end).toBe(bytes.length);
    const root = value as Map<string, unknown>;
    expect(root.get('ints')).toEqual([
      0,
      255,
      65535,
      -1,
      2 ** 31 - 1,
      -(2 ** 31),
      2 ** 40,
      -(2 ** 40),
      2n ** 70n,
      -(2n ** 70n),
    ]);
    expect(root.get('floats')).toEqual([3.5, -0, 1e-300]);
    expect(Object.is((root.get('floats') as number[])[1], -0)).toBe(true);
    expect(root.get('flags')).toEqual([true, false, null]);
    expect(root.get('text')).toEqual(['', 'ascii', 'ünïcödé', 'x'.repeat(300)]);
    expect(Array.from(root.get('bytes') as Uint8Array)).toEqual([0, 1, 255]);
    expect(root.get('tuples')).toEqual([[], [1], [1, 2], [1, 2, 3], [1, 2, 3, 4]]);
    expect(root.get('nested')).toEqual(new Map([['a', new Map<string, unknown>([['b', [[], new Map()]]])]]));
    const [first, second] = root.get('shared') as unknown[][];
    expect(first).toEqual(['x']);
    expect(second).toBe(first); // the memo keeps shared references shared
  });

  it('names truncation and unsupported opcodes with their position', () => {
    const bytes = Buffer.from(pickles.protocol2, 'hex');
    expect(() => unpickle(bytes.subarray(0, 40), NO_OBJECTS, 0, 'p.pkl')).toThrow(/^p\.pkl: truncated/);
    // 'I' (INT, protocol 0 text integers) never appears in torch state dicts.
    expect(() => unpickle(Buffer.from('I1\n.', 'latin1'), NO_OBJECTS, 0, 'p.pkl')).toThrow(
      'p.pkl: unsupported pickle opcode 0x49 (pickle byte 0)',
    );
    expect(() => unpickle(Buffer.from([0x80, 2, 0x68, 7, 0x2e]), NO_OBJECTS)).toThrow('memo 7 is not set');
  });
});

describe('readSafetensors', () => {
  function safetensors(header: object, data: Uint8Array): Uint8Array {
    const json = Buffer.from(JSON.stringify(header));
    const length = Buffer.alloc(8);
    length.writeBigUInt64LE(BigInt(json.length));
    return Buffer.concat([length, json, data]);
  }

  it('reads dtypes and shapes and is recognised by content', () => {
    const values = new Float32Array([1, 2, 3, 4, 5, 6]);
    const bytes = safetensors(
      { w: { dtype: 'F32', shape: [2, 3], data_offsets: [0, 24] }, __metadata__: { format: 'pt' } },
      new Uint8Array(values.buffer),
    );
    const dict = readStateDict(bytes);
    expect(dict.get('w')?.shape).toEqual([2, 3]);
    expect(Array.from(dict.get('w')?.values() ?? [])).toEqual([1, 2, 3, 4, 5, 6]);
  });

  it('names an unsupported dtype and a size that does not match the shape', () => {
    const data = new Uint8Array(8);
    expect(() =>
      readSafetensors(safetensors({ w: { dtype: 'F8_E4M3', shape: [8], data_offsets: [0, 8] } }, data), 'f8'),
    ).toThrow('f8: tensor "w" has unsupported dtype F8_E4M3');
    expect(() =>
      readSafetensors(safetensors({ w: { dtype: 'F32', shape: [3], data_offsets: [0, 8] } }, data), 'odd'),
    ).toThrow(WeightFileError);
  });
});
