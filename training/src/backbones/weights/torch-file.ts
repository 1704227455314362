/**
 * Reads a state dict written by `torch.save(model.state_dict(), path)`: the zip format of
 * torch >= 1.6 (`<root>/data.pkl` + one entry per storage under `<root>/data/`), and the older
 * "legacy" format (a run of pickles followed by raw storages) that some of torchvision's own
 * ImageNet files still use. The zip container is fflate's; the pickle subset is ours (pickle.ts).
 */
import { unzipSync } from 'fflate';
import { WeightFileError } from './errors';
import { PickleGlobal, unpickle, type PickleValue, type UnpicklerHooks } from './pickle';
import { DTYPE_BYTES, stridedTensor, type StateDict, type TensorDType, type TensorEntry } from './state-dict';

/** torch's typed storage classes, as they appear in GLOBAL opcodes (`torch FloatStorage`). */
const STORAGE_DTYPES: Readonly<Record<string, TensorDType>> = {
  FloatStorage: 'float32',
  DoubleStorage: 'float64',
  HalfStorage: 'float16',
  BFloat16Storage: 'bfloat16',
  LongStorage: 'int64',
  IntStorage: 'int32',
  ShortStorage: 'int16',
  CharStorage: 'int8',
  ByteStorage: 'uint8',
  BoolStorage: 'bool',
};

/** The first pickle of a legacy file; torch checks it the same way. */
const LEGACY_MAGIC = 0x1950a86a20f9469cfc6cn;
const LEGACY_PROTOCOL = 1001;
const ZIP_MAGIC = [0x50, 0x4b, 0x03, 0x04];

interface Storage {
  dtype: TensorDType;
  numel: number;
  key: string;
  /** Filled when the storage's bytes are located (at once for zip, after the pickle for legacy). */
  bytes: Uint8Array;
}

function isNonNegativeInteger(value: PickleValue): value is number {
  return typeof value === 'number' && Number.isInteger(value) && value >= 0;
}

function intList(value: PickleValue, what: string, source: string): number[] {
  if (!Array.isArray(value) || !value.every(isNonNegativeInteger)) {
    throw new WeightFileError(`${source}: tensor ${what} is not a tuple of integers`);
  }
  return value as number[];
}

/**
 * Unpickler hooks for a state dict: OrderedDict, tensor rebuilds and storages, nothing else.
 * `storageFor` turns a persistent id into a storage (the two formats describe them differently).
 */
function stateDictHooks(
  source: string,
  storageFor: (pid: PickleValue[]) => Storage,
  tensors: Set<TensorEntry>,
): UnpicklerHooks {
  let tensorCount = 0;
  const rebuildTensor = (args: PickleValue[]): TensorEntry => {
    const [storage, offset, size, stride] = args;
    if (!storage || typeof storage !== 'object' || !('dtype' in storage) || !isNonNegativeInteger(offset)) {
      throw new WeightFileError(`${source}: malformed tensor record`);
    }
    const tensor = stridedTensor(
      storage as Storage,
      offset,
      intList(size, 'size', source),
      intList(stride, 'stride', source),
      `#${tensorCount++} (storage ${(storage as Storage).key})`,
    );
    tensors.add(tensor);
    return tensor;
  };
  return {
    reduce(callable, args) {
      const name = callable instanceof PickleGlobal ? callable.qualifiedName : typeof callable;
      switch (name) {
        case 'collections.OrderedDict':
          return new Map(Array.isArray(args[0]) ? (args[0] as [PickleValue, PickleValue][]) : []);
        case 'torch._utils._rebuild_tensor':
        case 'torch._utils._rebuild_tensor_v2':
          return rebuildTensor(args);
        case 'torch._utils._rebuild_parameter':
        case 'torch._utils._rebuild_parameter_with_state':
          return args[0];
        default:
          throw new WeightFileError(
            `${source}: unsupported object ${name} in the pickle; expected a plain state dict ` +
              '(save model.state_dict(), not the model or a training checkpoint)',
          );
      }
    },
    persistentLoad(pid) {
      if (!Array.isArray(pid) || pid[0] !== 'storage') {
        throw new WeightFileError(`${source}: unsupported persistent id ${JSON.stringify(pid)}`);
      }
      return storageFor(pid);
    },
    build(target) {
      // OrderedDict state is its `_metadata` (module versions); tensors have no BUILD in state dicts.
      if (target instanceof Map) return target;
      throw new WeightFileError(`${source}: unexpected object state in the pickle`);
    },
  };
}

function storageDType(type: PickleValue, source: string): TensorDType {
  const name = type instanceof PickleGlobal && type.module === 'torch' ? type.name : undefined;
  const dtype = name === undefined ? undefined : STORAGE_DTYPES[name];
  if (!dtype) {
    const shown = type instanceof PickleGlobal ? type.qualifiedName : String(type);
    throw new WeightFileError(`${source}: unsupported storage type ${shown}`);
  }
  return dtype;
}

/** Checks the unpickled root is `{ name: tensor }` and returns it as a StateDict. */
function asStateDict(root: PickleValue, tensors: Set<TensorEntry>, source: string): StateDict {
  if (!(root instanceof Map)) {
    throw new WeightFileError(
      `${source}: the pickle holds a ${typeof root}, not a state dict (an OrderedDict)`,
    );
  }
  const dict: StateDict = new Map();
  for (const [key, value] of root) {
    if (typeof key !== 'string')
      throw new WeightFileError(`${source}: state dict key ${String(key)} is not a string`);
    if (!tensors.has(value as TensorEntry)) {
      throw new WeightFileError(
        `${source}: state dict entry "${key}" is not a tensor (is this a training checkpoint rather than a state dict?)`,
      );
    }
    dict.set(key, value as TensorEntry);
  }
  return dict;
}

function readZip(bytes: Uint8Array, source: string): StateDict {
  let entries: Record<string, Uint8Array>;
  try {
    entries = unzipSync(bytes);
  } catch (error) {
    throw new WeightFileError(
      `${source}: not a readable zip archive (truncated or corrupt): ${(error as Error).message}`,
      {
        cause: error,
      },
    );
  }
  const pickleName = Object.keys(entries).find((name) => /^[^/]+\/data\.pkl$/.test(name));
  if (!pickleName)
    throw new WeightFileError(`${source}: the zip archive has no <root>/data.pkl; not a torch.save file`);
  const root = pickleName.slice(0, -'data.pkl'.length);
  const byteOrder = entries[`${root}byteorder`];
  if (byteOrder && new TextDecoder().decode(byteOrder).trim() !== 'little') {
    throw new WeightFileError(`${source}: big-endian torch files are not supported`);
  }
  const storages = new Map<string, Storage>();
  const tensors = new Set<TensorEntry>();
  const hooks = stateDictHooks(
    source,
    (pid) => {
      const [, type, key, , numel] = pid;
      if (typeof key !== 'string' || !isNonNegativeInteger(numel)) {
        throw new WeightFileError(`${source}: malformed storage record ${JSON.stringify(pid.slice(2))}`);
      }
      const existing = storages.get(key);
      if (existing) return existing;
      const dtype = storageDType(type, source);
      const data = entries[`${root}data/${key}`];
      if (!data)
        throw new WeightFileError(`${source}: storage ${root}data/${key} is missing from the archive`);
      if (data.length < numel * DTYPE_BYTES[dtype]) {
        throw new WeightFileError(
          `${source}: storage ${root}data/${key} has ${data.length} bytes, needs ${numel * DTYPE_BYTES[dtype]} (truncated)`,
        );
      }
      const storage: Storage = { dtype, numel, key, bytes: data };
      storages.set(key, storage);
      return storage;
    },
    tensors,
  );
  const { value } = unpickle(entries[pickleName], hooks, 0, `${source} ${pickleName}`);
  return asStateDict(value, tensors, source);
}

function readLegacy(bytes: Uint8Array, source: string): StateDict {
  const plainHooks: UnpicklerHooks = {
    reduce: () => {
      throw new WeightFileError(`${source}: unexpected object in the legacy header`);
    },
    persistentLoad: () => {
      throw new WeightFileError(`${source}: unexpected storage in the legacy header`);
    },
    build: (target) => target,
  };
  const magic = unpickle(bytes, plainHooks, 0, source);
  if (magic.value !== LEGACY_MAGIC)
    throw new WeightFileError(`${source}: not a torch.save file (bad magic number)`);
  const protocol = unpickle(bytes, plainHooks, magic.end, source);
  if (protocol.value !== LEGACY_PROTOCOL) {
    throw new WeightFileError(`${source}: unsupported legacy torch protocol ${String(protocol.value)}`);
  }
  const sysInfo = unpickle(bytes, plainHooks, protocol.end, source);
  if (sysInfo.value instanceof Map && sysInfo.value.get('little_endian') === false) {
    throw new WeightFileError(`${source}: big-endian torch files are not supported`);
  }

  const roots = new Map<string, Storage>();
  const tensors = new Set<TensorEntry>();
  const hooks = stateDictHooks(
    source,
    (pid) => {
      const [, type, key, , numel, view] = pid;
      if (typeof key !== 'string' || !isNonNegativeInteger(numel)) {
        throw new WeightFileError(`${source}: malformed storage record ${JSON.stringify(pid.slice(2))}`);
      }
      const dtype = storageDType(type, source);
      let root = roots.get(key);
      if (!root) {
        root = { dtype, numel, key, bytes: new Uint8Array(0) };
        roots.set(key, root);
      }
      if (view === null || view === undefined) return root;
      // A view: (view_key, element offset, element count) into the root storage.
      const [, viewOffset, viewSize] = view as PickleValue[];
      if (!isNonNegativeInteger(viewOffset) || !isNonNegativeInteger(viewSize)) {
        throw new WeightFileError(`${source}: malformed storage view of ${key}`);
      }
      const base = root;
      return {
        dtype,
        numel: viewSize,
        key: `${key}[${viewOffset}:]`,
        get bytes() {
          return base.bytes.subarray(viewOffset * DTYPE_BYTES[dtype]);
        },
      } satisfies Storage;
    },
    tensors,
  );
  const main = unpickle(bytes, hooks, sysInfo.end, source);
  const keys = unpickle(bytes, plainHooks, main.end, source);
  if (!Array.isArray(keys.value) || !keys.value.every((k) => typeof k === 'string')) {
    throw new WeightFileError(`${source}: the legacy storage key list is malformed`);
  }
  const view = new DataView(bytes.buffer, bytes.byteOffset, bytes.byteLength);
  let pos = keys.end;
  for (const key of keys.value as string[]) {
    const storage = roots.get(key);
    if (!storage) throw new WeightFileError(`${source}: storage ${key} is listed but never used`);
    if (pos + 8 > bytes.length) throw new WeightFileError(`${source}: truncated before storage ${key}`);
    const numel = Number(view.getBigInt64(pos, true));
    const size = numel * DTYPE_BYTES[storage.dtype];
    if (numel !== storage.numel) {
      throw new WeightFileError(
        `${source}: storage ${key} holds ${numel} elements, the pickle says ${storage.numel}`,
      );
    }
    if (pos + 8 + size > bytes.length) {
      throw new WeightFileError(
        `${source}: storage ${key} is truncated (${bytes.length - pos - 8} of ${size} bytes)`,
      );
    }
    storage.bytes = bytes.subarray(pos + 8, pos + 8 + size);
    pos += 8 + size;
  }
  const unread = [...roots.keys()].filter((key) => !(keys.value as string[]).includes(key));
  if (unread.length > 0) throw new WeightFileError(`${source}: storages ${unread.join(', ')} have no data`);
  return asStateDict(main.value, tensors, source);
}

/**
 * Parses the bytes of a `torch.save` state dict (zip or legacy format).
 *
 * @example const dict = readTorchStateDict(fs.readFileSync('resnet152.pth'), 'resnet152.pth');
 * @throws WeightFileError naming the problem (truncated archive, missing storage, not a state dict...).
 */
export function readTorchStateDict(bytes: Uint8Array, source = 'torch file'): StateDict {
  if (ZIP_MAGIC.every((b, i) => bytes[i] === b)) return readZip(bytes, source);
  if (bytes[0] === 0x80) return readLegacy(bytes, source);
  if (bytes.length >= 2 && bytes[0] === 0x50 && bytes[1] === 0x4b) return readZip(bytes, source);
  throw new WeightFileError(`${source}: not a torch.save file (neither a zip archive nor a pickle)`);
}
