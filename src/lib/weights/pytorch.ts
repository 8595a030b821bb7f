import * as fs from 'node:fs';
import { NameRegistry, Parser } from 'pickleparser';
import { WeightsError } from '../errors';
import { DTYPES, decodeElements, type StateDict, type StoredTensor } from './stateDict';
import { entryBytes, entryComplete, isZip, readZipDirectory, type ZipDirectory } from './zip';

/**
 * PyTorch state dicts as `torch.save` writes them since 1.6 (`.pth`, `.pt`, HF `pytorch_model.bin`):
 * a zip whose `<name>/data.pkl` pickles the dict and whose `<name>/data/<key>` records hold each
 * storage's raw little-endian bytes. In the pickle a tensor is
 * `torch._utils._rebuild_tensor_v2(storage, offset, size, stride, ...)` and a storage a persistent id
 * `('storage', torch.FloatStorage, key, location, numel)`. pickleparser never runs code: any other
 * global a training checkpoint pickles next to the weights (numpy scalars, an argparse Namespace)
 * stays an inert placeholder, and only the tensors are read.
 */

/** Legacy typed-storage class name -> stored dtype (safetensors spelling, as in stateDict.ts). */
const STORAGE_DTYPES: Record<string, string> = {
  FloatStorage: 'F32',
  HalfStorage: 'F16',
  BFloat16Storage: 'BF16',
  DoubleStorage: 'F64',
  LongStorage: 'I64',
  IntStorage: 'I32',
  ShortStorage: 'I16',
  CharStorage: 'I8',
  ByteStorage: 'U8',
  BoolStorage: 'BOOL',
};

interface StorageRef {
  key: string;
  dtype: string;
  numel: number;
}

class TensorRef {
  constructor(
    readonly storage: StorageRef,
    readonly offset: number,
    readonly shape: number[],
    readonly stride: number[],
  ) {}
}

/** The legacy (pre-1.6) format starts with a pickled magic number: PROTO 2, LONG1 of 10 bytes. */
function isLegacyTorch(bytes: Uint8Array): boolean {
  return bytes.length >= 4 && bytes[0] === 0x80 && bytes[1] === 0x02 && bytes[2] === 0x8a && bytes[3] === 0x0a;
}

export function readPytorch(file: string): StateDict {
  let bytes: Uint8Array;
  try {
    bytes = fs.readFileSync(file);
  } catch (e) {
    throw new WeightsError(`cannot read: ${(e as NodeJS.ErrnoException).code ?? (e as Error).message}`, file);
  }
  return parsePytorch(bytes, file);
}

export function parsePytorch(bytes: Uint8Array, file: string): StateDict {
  if (isLegacyTorch(bytes)) {
    throw new WeightsError('legacy PyTorch format (torch.save before 1.6); re-save it with torch >= 1.6: torch.save(torch.load(old), new)', file);
  }
  if (!isZip(bytes)) throw new WeightsError('not a PyTorch zip checkpoint (no zip header)', file);
  const dir = readZipDirectory(bytes, file);
  const pklName = [...dir.entries.keys()].filter((n) => n.endsWith('data.pkl')).sort((a, b) => a.length - b.length)[0];
  if (!pklName) throw new WeightsError(`no data.pkl in the archive${dir.complete ? '' : ' (the file is truncated before it)'}`, file);
  const prefix = pklName.slice(0, -'data.pkl'.length);
  const byteorder = dir.entries.get(`${prefix}byteorder`);
  if (byteorder && entryComplete(bytes, byteorder) && Buffer.from(entryBytes(bytes, byteorder, file)).toString() === 'big') {
    throw new WeightsError('big-endian checkpoint; sifd reads little-endian ones', file);
  }
  const root = unpickle(entryBytes(bytes, dir.entries.get(pklName)!, file), file);
  const found = findTensors(root, file);
  const tensors = new Map<string, StoredTensor>();
  for (const [name, ref] of found) tensors.set(name, materialise(bytes, dir, prefix, name, ref, file));
  return { file, tensors };
}

function unpickle(pkl: Uint8Array, file: string): unknown {
  const names = new TorchNames();
  const storages = new Map<string, StorageRef>();
  const parser = new Parser({
    nameResolver: names,
    unpicklingTypeOfDictionary: 'Map',
    persistentResolver: {
      resolve(pid: unknown) {
        const [kind, type, key, , numel] = pid as [string, { storageDtype?: string }, string, string, number];
        if (kind !== 'storage' || !type?.storageDtype) throw new WeightsError(`unexpected persistent id ${JSON.stringify(pid)} in data.pkl`, file);
        const ref = storages.get(key) ?? { key, dtype: type.storageDtype, numel: Number(numel) };
        storages.set(key, ref);
        return ref;
      },
    },
  });
  try {
    return parser.parse(pkl);
  } catch (e) {
    if (e instanceof WeightsError) throw e;
    throw new WeightsError(`cannot unpickle data.pkl: ${(e as Error).message}`, file);
  }
}

/** The globals that rebuild tensors and dicts; any other becomes pickleparser's inert placeholder. */
class TorchNames extends NameRegistry {
  constructor() {
    super();
    const rebuild = (storage: StorageRef, offset: number, size: number[], stride: number[]) =>
      new TensorRef(storage, Number(offset), size.map(Number), stride.map(Number));
    this.register('collections', 'OrderedDict', () => new Map());
    this.register('torch._utils', '_rebuild_tensor_v2', rebuild);
    this.register('torch._utils', '_rebuild_parameter', (data: TensorRef) => data);
    this.register('torch._utils', '_rebuild_parameter_with_state', (data: TensorRef) => data);
    this.register('torch._tensor', '_rebuild_from_type_v2', (fn: (...a: unknown[]) => unknown, _type: unknown, args: unknown[]) => fn(...args));
    this.register('torch', 'Tensor', () => undefined);
    this.register('torch.nn.parameter', 'Parameter', () => undefined);
    for (const [cls, dtype] of Object.entries(STORAGE_DTYPES)) this.register('torch', cls, Object.assign(() => undefined, { storageDtype: dtype }));
  }
}

/** Keys under which training scripts nest the weights, tried in this order. */
const NESTED_KEYS = ['state_dict', 'model', 'model_state_dict', 'module', 'net', 'network', 'weights'];

/** The flat name -> tensor map: the dict itself, or the nested dict holding the tensors. */
function findTensors(root: unknown, file: string): Map<string, TensorRef> {
  if (!(root instanceof Map)) throw new WeightsError('the checkpoint is not a dict of tensors (torch.save a state_dict, not a model)', file);
  const direct = [...root].filter(([, v]) => v instanceof TensorRef) as Array<[string, TensorRef]>;
  if (direct.length) return new Map(direct.map(([k, v]) => [String(k), v]));
  const nested = [...root].filter(([, v]) => v instanceof Map) as Array<[string, Map<unknown, unknown>]>;
  const pick = NESTED_KEYS.map((k) => nested.find(([n]) => n === k)).find(Boolean) ?? (nested.length === 1 ? nested[0] : undefined);
  if (pick) return findTensors(pick[1], file);
  throw new WeightsError(`no tensors found; top-level keys: ${[...root.keys()].slice(0, 10).join(', ')}`, file);
}

/** One tensor's values (row-major, float32) from its storage record, honouring offset and strides. */
function materialise(bytes: Uint8Array, dir: ZipDirectory, prefix: string, name: string, ref: TensorRef, file: string): StoredTensor {
  const { storage, offset, shape, stride } = ref;
  const record = `${prefix}data/${storage.key}`;
  const entry = dir.entries.get(record);
  const size = DTYPES[storage.dtype].bytes;
  if (!entry || !entryComplete(bytes, entry) || entry.size < storage.numel * size) {
    throw new WeightsError(`truncated file: tensor '${name}' (storage record ${record}) is ${entry ? 'cut short' : 'missing'}`, file);
  }
  const data = entryBytes(bytes, entry, file);
  const count = shape.reduce((a, b) => a * b, 1);
  const last = count === 0 ? offset : offset + shape.reduce((s, d, i) => s + (d - 1) * stride[i], 0);
  if (last >= storage.numel && count > 0) throw new WeightsError(`tensor '${name}' reaches element ${last} of a storage of ${storage.numel}`, file);
  const values = isRowMajor(shape, stride)
    ? decodeElements(data, offset * size, count, storage.dtype)
    : gather(decodeElements(data, 0, storage.numel, storage.dtype), offset, shape, stride);
  return { shape, dtype: storage.dtype, data: values };
}

function isRowMajor(shape: number[], stride: number[]): boolean {
  let expect = 1;
  for (let i = shape.length - 1; i >= 0; i--) {
    if (shape[i] !== 1 && stride[i] !== expect) return false;
    expect *= shape[i];
  }
  return true;
}

/** Strided view -> contiguous copy. */
function gather(all: Float32Array, offset: number, shape: number[], stride: number[]): Float32Array {
  const count = shape.reduce((a, b) => a * b, 1);
  const out = new Float32Array(count);
  const index = new Array<number>(shape.length).fill(0);
  for (let i = 0; i < count; i++) {
    let at = offset;
    for (let d = 0; d < shape.length; d++) at += index[d] * stride[d];
    out[i] = all[at];
    for (let d = shape.length - 1; d >= 0; d--) {
      if (++index[d] < shape[d]) break;
      index[d] = 0;
    }
  }
  return out;
}
