/**
 * A reader for the subset of Python's pickle format (protocols 2-5) that `torch.save` writes for
 * state dicts. No npm package reads pickles without executing arbitrary callables, and we need
 * only data: globals are never imported, they become {@link PickleGlobal} markers whose meaning
 * (OrderedDict, tensor rebuild, storage types) the caller decides through {@link UnpicklerHooks}.
 */
import { WeightFileError } from './errors';

/** A `module.name` reference from a GLOBAL opcode; never resolved to code. */
export class PickleGlobal {
  constructor(
    readonly module: string,
    readonly name: string,
  ) {}

  get qualifiedName(): string {
    return `${this.module}.${this.name}`;
  }
}

/** Python tuples and lists are both JS arrays; dicts are Maps (keys keep their pickled values). */
export type PickleValue = unknown;

export interface UnpicklerHooks {
  /** REDUCE / NEWOBJ: `callable(*args)`. Throw for callables the file should not contain. */
  reduce(callable: PickleValue, args: PickleValue[]): PickleValue;
  /** BINPERSID: what `persistent_load(pid)` returns (torch: a storage). */
  persistentLoad(pid: PickleValue): PickleValue;
  /** BUILD: `obj.__setstate__(state)`; returns the object left on the stack. */
  build(target: PickleValue, state: PickleValue): PickleValue;
}

/** The opcodes we read; anything else in a file is reported by name and position. */
const OP = {
  MARK: 0x28, // (
  STOP: 0x2e, // .
  POP: 0x30, // 0
  POP_MARK: 0x31, // 1
  DUP: 0x32, // 2
  BINFLOAT: 0x47, // G
  BININT: 0x4a, // J
  BININT1: 0x4b, // K
  BININT2: 0x4d, // M
  NONE: 0x4e, // N
  BINPERSID: 0x51, // Q
  REDUCE: 0x52, // R
  BINSTRING: 0x54, // T
  SHORT_BINSTRING: 0x55, // U
  BINUNICODE: 0x58, // X
  APPEND: 0x61, // a
  BUILD: 0x62, // b
  GLOBAL: 0x63, // c
  DICT: 0x64, // d
  APPENDS: 0x65, // e
  BINGET: 0x68, // h
  LONG_BINGET: 0x6a, // j
  LIST: 0x6c, // l
  BINPUT: 0x71, // q
  LONG_BINPUT: 0x72, // r
  SETITEM: 0x73, // s
  TUPLE: 0x74, // t
  SETITEMS: 0x75, // u
  EMPTY_DICT: 0x7d, // }
  EMPTY_LIST: 0x5d, // ]
  EMPTY_TUPLE: 0x29, // )
  BINBYTES: 0x42, // B
  SHORT_BINBYTES: 0x43, // C
  PROTO: 0x80,
  NEWOBJ: 0x81,
  TUPLE1: 0x85,
  TUPLE2: 0x86,
  TUPLE3: 0x87,
  NEWTRUE: 0x88,
  NEWFALSE: 0x89,
  LONG1: 0x8a,
  LONG4: 0x8b,
  SHORT_BINUNICODE: 0x8c,
  BINUNICODE8: 0x8d,
  BINBYTES8: 0x8e,
  EMPTY_SET: 0x8f,
  ADDITEMS: 0x90,
  FROZENSET: 0x91,
  STACK_GLOBAL: 0x93,
  MEMOIZE: 0x94,
  FRAME: 0x95,
} as const;

const OPCODE_NAMES = new Map<number, string>(Object.entries(OP).map(([name, code]) => [code, name]));

/** Little-endian two's complement integer of any width (LONG1/LONG4), as a number when it fits. */
function decodeLong(bytes: Uint8Array): number | bigint {
  if (bytes.length === 0) return 0;
  let value = 0n;
  for (let i = bytes.length - 1; i >= 0; i--) value = (value << 8n) | BigInt(bytes[i]);
  if (bytes[bytes.length - 1] & 0x80) value -= 1n << BigInt(8 * bytes.length);
  return value >= BigInt(Number.MIN_SAFE_INTEGER) && value <= BigInt(Number.MAX_SAFE_INTEGER)
    ? Number(value)
    : value;
}

/**
 * Reads one pickle starting at `offset` and returns its value and the offset after its STOP
 * (the legacy torch format is several pickles in a row).
 *
 * @example const { value } = unpickle(bytes, hooks); // value: Map for an OrderedDict state dict
 * @throws WeightFileError naming the opcode or the position when the stream is truncated or unsupported.
 */
export function unpickle(
  bytes: Uint8Array,
  hooks: UnpicklerHooks,
  offset = 0,
  source = 'pickle',
): { value: PickleValue; end: number } {
  const view = new DataView(bytes.buffer, bytes.byteOffset, bytes.byteLength);
  const decoder = new TextDecoder('utf-8', { fatal: true });
  const latin1 = new TextDecoder('latin1');
  const stack: PickleValue[] = [];
  const marks: number[] = [];
  const memo = new Map<number, PickleValue>();
  let pos = offset;

  const fail = (message: string): never => {
    throw new WeightFileError(`${source}: ${message} (pickle byte ${pos})`);
  };
  const need = (n: number): void => {
    if (pos + n > bytes.length) fail(`truncated: needs ${n} more bytes`);
  };
  const u8 = (): number => {
    need(1);
    return bytes[pos++];
  };
  const u16 = (): number => {
    need(2);
    const v = view.getUint16(pos, true);
    pos += 2;
    return v;
  };
  const u32 = (): number => {
    need(4);
    const v = view.getUint32(pos, true);
    pos += 4;
    return v;
  };
  const u64 = (): number => {
    need(8);
    const v = view.getBigUint64(pos, true);
    pos += 8;
    if (v > BigInt(Number.MAX_SAFE_INTEGER)) fail('length too large');
    return Number(v);
  };
  const take = (n: number): Uint8Array => {
    need(n);
    const slice = bytes.subarray(pos, pos + n);
    pos += n;
    return slice;
  };
  const line = (): string => {
    const end = bytes.indexOf(0x0a, pos);
    if (end < 0) fail('truncated: unterminated text argument');
    const text = latin1.decode(bytes.subarray(pos, end));
    pos = end + 1;
    return text;
  };
  const utf8 = (n: number): string => {
    try {
      return decoder.decode(take(n));
    } catch {
      return fail('invalid UTF-8 string');
    }
  };
  const pop = (): PickleValue => {
    if (stack.length === 0 || (marks.length > 0 && stack.length <= marks[marks.length - 1])) {
      fail('stack underflow');
    }
    return stack.pop();
  };
  const popMark = (): PickleValue[] => {
    const mark = marks.pop();
    if (mark === undefined) return fail('MARK expected');
    return stack.splice(mark);
  };
  const top = (): PickleValue => {
    if (stack.length === 0) fail('stack underflow');
    return stack[stack.length - 1];
  };
  const asMap = (value: PickleValue, op: string): Map<PickleValue, PickleValue> => {
    if (!(value instanceof Map)) fail(`${op} on a value that is not a dict`);
    return value as Map<PickleValue, PickleValue>;
  };
  const asList = (value: PickleValue, op: string): PickleValue[] => {
    if (!Array.isArray(value)) fail(`${op} on a value that is not a list`);
    return value as PickleValue[];
  };
  const memoGet = (index: number): PickleValue => {
    if (!memo.has(index)) fail(`memo ${index} is not set`);
    return memo.get(index);
  };

  for (;;) {
    const opPos = pos;
    const op = u8();
    switch (op) {
      case OP.PROTO:
        if (u8() > 5) fail('pickle protocol above 5');
        break;
      case OP.FRAME:
        u64();
        break;
      case OP.STOP:
        if (stack.length !== 1 || marks.length > 0) fail('STOP with an unbalanced stack');
        return { value: stack[0], end: pos };
      case OP.MARK:
        marks.push(stack.length);
        break;
      case OP.POP:
        pop();
        break;
      case OP.POP_MARK:
        popMark();
        break;
      case OP.DUP:
        stack.push(top());
        break;
      case OP.NONE:
        stack.push(null);
        break;
      case OP.NEWTRUE:
        stack.push(true);
        break;
      case OP.NEWFALSE:
        stack.push(false);
        break;
      case OP.BININT:
        need(4);
        stack.push(view.getInt32(pos, true));
        pos += 4;
        break;
      case OP.BININT1:
        stack.push(u8());
        break;
      case OP.BININT2:
        stack.push(u16());
        break;
      case OP.LONG1:
        stack.push(decodeLong(take(u8())));
        break;
      case OP.LONG4:
        stack.push(decodeLong(take(u32())));
        break;
      case OP.BINFLOAT:
        need(8);
        stack.push(view.getFloat64(pos, false));
        pos += 8;
        break;
      case OP.SHORT_BINUNICODE:
        stack.push(utf8(u8()));
        break;
      case OP.BINUNICODE:
        stack.push(utf8(u32()));
        break;
      case OP.BINUNICODE8:
        stack.push(utf8(u64()));
        break;
      case OP.SHORT_BINSTRING:
        stack.push(latin1.decode(take(u8())));
        break;
      case OP.BINSTRING:
        stack.push(latin1.decode(take(u32())));
        break;
      case OP.SHORT_BINBYTES:
        stack.push(take(u8()));
        break;
      case OP.BINBYTES:
        stack.push(take(u32()));
        break;
      case OP.BINBYTES8:
        stack.push(take(u64()));
        break;
      case OP.EMPTY_TUPLE:
        stack.push([]);
        break;
      case OP.TUPLE:
        stack.push(popMark());
        break;
      case OP.TUPLE1:
        stack.push([pop()]);
        break;
      case OP.TUPLE2: {
        const b = pop();
        stack.push([pop(), b]);
        break;
      }
      case OP.TUPLE3: {
        const c = pop();
        const b = pop();
        stack.push([pop(), b, c]);
        break;
      }
      case OP.EMPTY_LIST:
        stack.push([]);
        break;
      case OP.LIST:
        stack.push(popMark());
        break;
      case OP.APPEND: {
        const value = pop();
        asList(top(), 'APPEND').push(value);
        break;
      }
      case OP.APPENDS: {
        const items = popMark();
        asList(top(), 'APPENDS').push(...items);
        break;
      }
      case OP.EMPTY_DICT:
        stack.push(new Map());
        break;
      case OP.DICT: {
        const items = popMark();
        const map = new Map<PickleValue, PickleValue>();
        for (let i = 0; i + 1 < items.length; i += 2) map.set(items[i], items[i + 1]);
        stack.push(map);
        break;
      }
      case OP.SETITEM: {
        const value = pop();
        const key = pop();
        asMap(top(), 'SETITEM').set(key, value);
        break;
      }
      case OP.SETITEMS: {
        const items = popMark();
        const map = asMap(top(), 'SETITEMS');
        if (items.length % 2 !== 0) fail('SETITEMS with an odd number of items');
        for (let i = 0; i < items.length; i += 2) map.set(items[i], items[i + 1]);
        break;
      }
      case OP.EMPTY_SET:
        stack.push(new Set());
        break;
      case OP.ADDITEMS: {
        const items = popMark();
        const set = top();
        if (!(set instanceof Set)) fail('ADDITEMS on a value that is not a set');
        for (const item of items) (set as Set<PickleValue>).add(item);
        break;
      }
      case OP.FROZENSET:
        stack.push(new Set(popMark()));
        break;
      case OP.BINPUT:
        memo.set(u8(), top());
        break;
      case OP.LONG_BINPUT:
        memo.set(u32(), top());
        break;
      case OP.MEMOIZE:
        memo.set(memo.size, top());
        break;
      case OP.BINGET:
        stack.push(memoGet(u8()));
        break;
      case OP.LONG_BINGET:
        stack.push(memoGet(u32()));
        break;
      case OP.GLOBAL: {
        const module = line();
        stack.push(new PickleGlobal(module, line()));
        break;
      }
      case OP.STACK_GLOBAL: {
        const name = pop();
        const module = pop();
        if (typeof module !== 'string' || typeof name !== 'string') fail('STACK_GLOBAL needs two strings');
        stack.push(new PickleGlobal(module as string, name as string));
        break;
      }
      case OP.REDUCE: {
        const args = pop();
        const callable = pop();
        if (!Array.isArray(args)) fail('REDUCE arguments are not a tuple');
        stack.push(hooks.reduce(callable, args as PickleValue[]));
        break;
      }
      case OP.NEWOBJ: {
        const args = pop();
        const cls = pop();
        if (!Array.isArray(args)) fail('NEWOBJ arguments are not a tuple');
        stack.push(hooks.reduce(cls, args as PickleValue[]));
        break;
      }
      case OP.BUILD: {
        const state = pop();
        const target = pop();
        stack.push(hooks.build(target, state));
        break;
      }
      case OP.BINPERSID:
        stack.push(hooks.persistentLoad(pop()));
        break;
      default: {
        pos = opPos;
        const name = OPCODE_NAMES.get(op);
        fail(`unsupported pickle opcode ${name ?? `0x${op.toString(16).padStart(2, '0')}`}`);
      }
    }
  }
}
