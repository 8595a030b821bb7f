import { WeightsError } from '../errors';

/**
 * A reference model's weights as read from disk, before any layout conversion: the PyTorch
 * state-dict key (`encoder.block.0.0.attention.self.query.weight`) -> its tensor in the file's own
 * layout (row-major, PyTorch's dimension order), always widened to float32 in memory.
 */
export interface StoredTensor {
  shape: number[];
  data: Float32Array;
  /** The dtype the file stored ('F32', 'F16', 'BF16', ...), for reports. */
  dtype: string;
}

export interface StateDict {
  /** The file the tensors came from; every error names it. */
  file: string;
  tensors: Map<string, StoredTensor>;
}

/** The tensor under `key`, or an error naming the file, the key and near keys. */
export function takeTensor(dict: StateDict, key: string, shape?: readonly number[]): StoredTensor {
  const t = dict.tensors.get(key);
  if (!t) {
    const stem = key.split('.').slice(0, -1).join('.');
    const near = [...dict.tensors.keys()].filter((k) => stem && k.startsWith(stem)).slice(0, 5);
    throw new WeightsError(`missing tensor '${key}'${near.length ? `; tensors under '${stem}': ${near.join(', ')}` : ''}`, dict.file);
  }
  if (shape && (t.shape.length !== shape.length || t.shape.some((d, i) => d !== shape[i]))) {
    throw new WeightsError(`tensor '${key}' has shape [${t.shape.join(', ')}], the model expects [${shape.join(', ')}]`, dict.file);
  }
  return t;
}

/** IEEE half -> float32 (subnormals, infinities and NaN included). */
export function halfToFloat(h: number): number {
  const sign = h & 0x8000 ? -1 : 1;
  const exp = (h >> 10) & 0x1f;
  const frac = h & 0x3ff;
  if (exp === 0) return sign * frac * 2 ** -24;
  if (exp === 31) return frac ? NaN : sign * Infinity;
  return sign * (1 + frac / 1024) * 2 ** (exp - 15);
}

/** bfloat16 is the upper half of a float32. */
export function bfloat16ToFloat(h: number): number {
  const view = new DataView(new ArrayBuffer(4));
  view.setUint32(0, h << 16, true);
  return view.getFloat32(0, true);
}

/** Bytes per element and a little-endian reader into float32, per stored dtype name (safetensors spelling). */
export const DTYPES: Record<string, { bytes: number; read: (v: DataView, off: number) => number }> = {
  F32: { bytes: 4, read: (v, o) => v.getFloat32(o, true) },
  F64: { bytes: 8, read: (v, o) => v.getFloat64(o, true) },
  F16: { bytes: 2, read: (v, o) => halfToFloat(v.getUint16(o, true)) },
  BF16: { bytes: 2, read: (v, o) => bfloat16ToFloat(v.getUint16(o, true)) },
  I64: { bytes: 8, read: (v, o) => Number(v.getBigInt64(o, true)) },
  I32: { bytes: 4, read: (v, o) => v.getInt32(o, true) },
  I16: { bytes: 2, read: (v, o) => v.getInt16(o, true) },
  I8: { bytes: 1, read: (v, o) => v.getInt8(o) },
  U8: { bytes: 1, read: (v, o) => v.getUint8(o) },
  BOOL: { bytes: 1, read: (v, o) => v.getUint8(o) },
};

/** `count` elements of `dtype` starting at `offset` of `bytes`, widened to float32. */
export function decodeElements(bytes: Uint8Array, offset: number, count: number, dtype: string): Float32Array {
  if (dtype === 'F32' && (bytes.byteOffset + offset) % 4 === 0) {
    return new Float32Array(bytes.buffer.slice(bytes.byteOffset + offset, bytes.byteOffset + offset + count * 4));
  }
  const { bytes: size, read } = DTYPES[dtype];
  const view = new DataView(bytes.buffer, bytes.byteOffset + offset, count * size);
  const out = new Float32Array(count);
  for (let i = 0; i < count; i++) out[i] = read(view, i * size);
  return out;
}
