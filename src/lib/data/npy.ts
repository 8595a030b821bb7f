import * as fs from 'fs';
import { parse as parseNpy } from 'npyjs';
import { DatasetError } from '../errors';
import { writeFileAtomic } from '../util/atomic';
import type { Masks } from './types';

/**
 * .npy (format 1.0) encoding of uint8 instance masks, shape (N,H,W), C order; `numpy.load` reads
 * it back exactly. The header is padded with spaces so the data starts on a 64-byte boundary, as
 * numpy itself writes it.
 */
export function encodeNpyMasks(masks: Masks): Buffer {
  const { count, height, width, data } = masks;
  if (data.length !== count * height * width) {
    throw new DatasetError(`mask data has ${data.length} bytes, expected ${count}x${height}x${width}`);
  }
  const dict = `{'descr': '|u1', 'fortran_order': False, 'shape': (${count}, ${height}, ${width}), }`;
  const preamble = 10; // magic (6) + version (2) + header length (2)
  const total = Math.ceil((preamble + dict.length + 1) / 64) * 64;
  const header = dict + ' '.repeat(total - preamble - dict.length - 1) + '\n';
  const out = Buffer.alloc(total + data.length);
  out.write('\x93NUMPY', 0, 'latin1');
  out[6] = 1;
  out[7] = 0;
  out.writeUInt16LE(header.length, 8);
  out.write(header, preamble, 'latin1');
  out.set(data, total);
  return out;
}

/** Write masks as .npy atomically (temp file + rename). */
export function writeNpyMasks(file: string, masks: Masks): void {
  writeFileAtomic(file, encodeNpyMasks(masks));
}

/** What an .npy header says, read without touching the data. */
export interface NpyHeader {
  /** numpy dtype string as written, e.g. '|u1', '<f4', '>i2'. */
  descr: string;
  /** The dtype code without byte order, e.g. 'u1', 'f4', 'b1'. */
  dtype: string;
  bigEndian: boolean;
  fortranOrder: boolean;
  shape: number[];
  /** Byte offset where the array data starts. */
  dataOffset: number;
  /** Bytes the data must have: product(shape) * itemsize. */
  dataBytes: number;
}

/** Mask dtypes accepted: > 0 means forged. */
const ITEM_SIZES: Record<string, number> = {
  b1: 1, u1: 1, i1: 1, u2: 2, i2: 2, u4: 4, i4: 4, u8: 8, i8: 8, f2: 2, f4: 4, f8: 8,
};

/** Most channels a 3-D mask may have on its first or last axis (the Kaggle layout is (N,H,W)). */
export const MAX_MASK_INSTANCES = 10;

/** Parse the header of an .npy file held in `bytes` (which may hold only the file's start). */
export function parseNpyHeader(bytes: Uint8Array, file?: string): NpyHeader {
  const magic = Buffer.from(bytes.buffer, bytes.byteOffset, Math.min(6, bytes.length)).toString('latin1');
  if (bytes.length < 10 || magic !== '\x93NUMPY') throw new DatasetError('not an .npy file (no \\x93NUMPY magic)', file);
  const major = bytes[6];
  const view = new DataView(bytes.buffer, bytes.byteOffset, bytes.byteLength);
  let headerLen: number;
  let start: number;
  if (major === 1) {
    headerLen = view.getUint16(8, true);
    start = 10;
  } else if (major === 2 || major === 3) {
    if (bytes.length < 12) throw new DatasetError('truncated .npy header', file);
    headerLen = view.getUint32(8, true);
    start = 12;
  } else {
    throw new DatasetError(`unsupported .npy format version ${major}.${bytes[7]}`, file);
  }
  if (bytes.length < start + headerLen) throw new DatasetError('truncated .npy header', file);
  const dict = Buffer.from(bytes.buffer, bytes.byteOffset + start, headerLen).toString(major === 3 ? 'utf8' : 'latin1');
  const descr = /'descr'\s*:\s*'([^']+)'/.exec(dict)?.[1];
  const order = /'fortran_order'\s*:\s*(True|False)/.exec(dict)?.[1];
  const shapeText = /'shape'\s*:\s*\(([^)]*)\)/.exec(dict)?.[1];
  if (descr === undefined || order === undefined || shapeText === undefined) {
    throw new DatasetError(`malformed .npy header: ${dict.trim()}`, file);
  }
  const shape = shapeText.split(',').map((d) => d.trim()).filter((d) => d.length > 0).map(Number);
  if (shape.some((d) => !Number.isInteger(d) || d < 0)) throw new DatasetError(`malformed .npy shape (${shapeText})`, file);
  const byteOrder = descr[0];
  const dtype = byteOrder === '<' || byteOrder === '>' || byteOrder === '|' || byteOrder === '=' ? descr.slice(1) : descr;
  const itemSize = ITEM_SIZES[dtype];
  if (itemSize === undefined) {
    throw new DatasetError(`unsupported mask dtype '${descr}' (expected bool, uint8/16/32/64, int8/16/32/64 or float16/32/64)`, file);
  }
  return {
    descr,
    dtype,
    bigEndian: byteOrder === '>' && itemSize > 1,
    fortranOrder: order === 'True',
    shape,
    dataOffset: start + headerLen,
    dataBytes: shape.reduce((a, b) => a * b, 1) * itemSize,
  };
}

/**
 * Read only the header of an .npy file (the first few hundred bytes), and check from the file size
 * that the data is complete, so an EDA pass learns shapes and dtypes without reading mask data.
 */
export function readNpyHeader(file: string): NpyHeader & { fileBytes: number } {
  let fd: number;
  try {
    fd = fs.openSync(file, 'r');
  } catch (err) {
    throw new DatasetError(`cannot open mask: ${(err as NodeJS.ErrnoException).code ?? (err as Error).message}`, file);
  }
  try {
    const fileBytes = fs.fstatSync(fd).size;
    let buf = Buffer.allocUnsafe(Math.min(fileBytes, 1024));
    fs.readSync(fd, buf, 0, buf.length, 0);
    // numpy pads headers to 64 bytes (usually 128 in all); a long shape or a v2/3 header may need more.
    if (buf.length >= 12) {
      const need = buf[6] >= 2 ? 12 + buf.readUInt32LE(8) : 10 + buf.readUInt16LE(8);
      if (need > buf.length && need <= fileBytes) {
        buf = Buffer.allocUnsafe(need);
        fs.readSync(fd, buf, 0, need, 0);
      }
    }
    const header = parseNpyHeader(buf, file);
    checkDataSize(header, fileBytes, file);
    return { ...header, fileBytes };
  } finally {
    fs.closeSync(fd);
  }
}

function checkDataSize(header: NpyHeader, fileBytes: number, file?: string): void {
  const have = fileBytes - header.dataOffset;
  if (have < header.dataBytes) {
    throw new DatasetError(
      `truncated .npy: shape (${header.shape.join(', ')}) ${header.descr} needs ${header.dataBytes} data bytes, file has ${Math.max(0, have)}`,
      file,
    );
  }
}

/** Image size a mask must match, when known; it also settles (N,H,W) versus (H,W,N). */
export interface MaskSizeHint {
  height?: number;
  width?: number;
}

export type MaskLayout = 'HW' | 'NHW' | 'HWN';

/** A mask whose shape does not map to the image: wrong rank, ambiguous 3-D, or a size mismatch. */
export class MaskShapeError extends DatasetError {
  constructor(
    readonly kind: 'rank' | 'ambiguous' | 'mismatch',
    reason: string,
    file?: string,
  ) {
    super(reason, file);
  }
}

/**
 * Decide how a mask shape maps to (N,H,W). (H,W) is one instance. A 3-D mask has at most
 * MAX_MASK_INSTANCES channels, first (Kaggle) or last; when both readings fit and no image size
 * tells them apart, the mask is ambiguous.
 */
export function maskLayout(shape: readonly number[], hint: MaskSizeHint = {}, file?: string): { layout: MaskLayout; count: number; height: number; width: number } {
  const fits = (h: number, w: number) => (hint.height === undefined || hint.height === h) && (hint.width === undefined || hint.width === w);
  const shapeText = `(${shape.join(', ')})`;
  if (shape.length === 2) {
    if (!fits(shape[0], shape[1])) throw mismatch(shapeText, shape[0], shape[1], hint, file);
    return { layout: 'HW', count: 1, height: shape[0], width: shape[1] };
  }
  if (shape.length !== 3) {
    throw new MaskShapeError('rank', `mask must be 2-D (H,W) or 3-D (N,H,W)/(H,W,N), got shape ${shapeText}`, file);
  }
  const [a, b, c] = shape;
  const first = a <= MAX_MASK_INSTANCES && fits(b, c);
  const last = c <= MAX_MASK_INSTANCES && fits(a, b);
  if (first && !last) return { layout: 'NHW', count: a, height: b, width: c };
  if (last && !first) return { layout: 'HWN', count: c, height: a, width: b };
  if (first && last) {
    if (a === c && b === a) return { layout: 'NHW', count: a, height: b, width: c };
    throw new MaskShapeError(
      'ambiguous',
      `ambiguous 3-D mask shape ${shapeText}: both (N,H,W) and (H,W,N) fit${hint.height === undefined ? '; pass the image size to decide' : ''}`,
      file,
    );
  }
  if (a > MAX_MASK_INSTANCES && c > MAX_MASK_INSTANCES) {
    throw new MaskShapeError('ambiguous', `ambiguous 3-D mask shape ${shapeText}: neither the first nor the last axis has <= ${MAX_MASK_INSTANCES} channels`, file);
  }
  const [h, w] = a <= MAX_MASK_INSTANCES ? [b, c] : [a, b];
  throw mismatch(shapeText, h, w, hint, file);
}

function mismatch(shapeText: string, h: number, w: number, hint: MaskSizeHint, file?: string): MaskShapeError {
  return new MaskShapeError(
    'mismatch',
    `mask shape ${shapeText} is ${h}x${w} (HxW) but the image is ${hint.height ?? '?'}x${hint.width ?? '?'}`,
    file,
  );
}

/**
 * Decode an .npy mask held in memory to uint8 (N,H,W) 0/1: bool and every int/float dtype
 * (value > 0 = forged), C or Fortran order, little- or big-endian.
 */
export function decodeNpyMasks(bytes: Uint8Array, hint: MaskSizeHint = {}, file?: string): Masks {
  const header = parseNpyHeader(bytes, file);
  checkDataSize(header, bytes.length, file);
  const { layout, count, height, width } = maskLayout(header.shape, hint, file);
  const total = count * height * width;
  if (header.dtype === 'u1' || header.dtype === 'b1' || header.dtype === 'i1') {
    // One byte per value: no parse needed (and npyjs would build a boolean[] for b1).
    // A fresh copy starts 4-byte aligned, so it can be checked a word at a time.
    const flat = bytes.slice(header.dataOffset, header.dataOffset + header.dataBytes);
    if (header.dtype === 'i1') {
      for (let i = 0; i < total; i++) flat[i] = flat[i] > 0 && flat[i] < 128 ? 1 : 0;
    } else if (!isBinary(flat)) {
      for (let i = 0; i < total; i++) flat[i] = flat[i] === 0 ? 0 : 1;
    }
    return { data: toNhw(flat, header.shape, header.fortranOrder, layout), count, height, width };
  }
  // npyjs wants an ArrayBuffer of its own, little-endian: copy, and swap bytes in the copy if needed.
  const copy = new Uint8Array(header.dataOffset + header.dataBytes);
  copy.set(bytes.subarray(0, copy.length));
  if (header.bigEndian) {
    const size = ITEM_SIZES[header.dtype];
    for (let i = header.dataOffset; i < copy.length; i += size) copy.subarray(i, i + size).reverse();
    // Same length, so the header stays valid: '>' -> '<'.
    const at = Buffer.from(copy.buffer).indexOf(`'${header.descr}'`, 0, 'latin1');
    copy[at + 1] = '<'.charCodeAt(0);
  }
  let values: ArrayLike<number | bigint | boolean>;
  try {
    values = parseNpy(copy.buffer).data as unknown as ArrayLike<number | bigint | boolean>;
  } catch (err) {
    throw new DatasetError(`cannot parse .npy: ${(err as Error).message}`, file);
  }
  const flat = new Uint8Array(total);
  if (values instanceof BigInt64Array || values instanceof BigUint64Array) {
    for (let i = 0; i < total; i++) flat[i] = values[i] > BigInt(0) ? 1 : 0;
  } else {
    const nums = values as ArrayLike<number | boolean>;
    for (let i = 0; i < total; i++) flat[i] = Number(nums[i]) > 0 ? 1 : 0;
  }
  return { data: toNhw(flat, header.shape, header.fortranOrder, layout), count, height, width };
}

/** True when every byte is 0 or 1 (the usual uint8 mask), checked four bytes at a time. */
function isBinary(u8: Uint8Array): boolean {
  const words = u8.byteOffset % 4 === 0 ? new Uint32Array(u8.buffer, u8.byteOffset, u8.length >> 2) : new Uint32Array(0);
  for (let i = 0; i < words.length; i++) if (words[i] & 0xfefefefe) return false;
  for (let i = words.length * 4; i < u8.length; i++) if (u8[i] > 1) return false;
  return true;
}

/** Reorder 0/1 values stored in `shape` (C or Fortran order) into C-order (N,H,W). */
function toNhw(flat: Uint8Array, shape: readonly number[], fortran: boolean, layout: MaskLayout): Uint8Array {
  if (!fortran && layout !== 'HWN') return flat;
  // Strides of the stored array, in elements.
  const dims = shape.length;
  const strides = new Array<number>(dims);
  let s = 1;
  if (fortran) {
    for (let d = 0; d < dims; d++) { strides[d] = s; s *= shape[d]; }
  } else {
    for (let d = dims - 1; d >= 0; d--) { strides[d] = s; s *= shape[d]; }
  }
  let N: number, H: number, W: number, sn: number, sh: number, sw: number;
  if (layout === 'HW') [N, H, W, sn, sh, sw] = [1, shape[0], shape[1], 0, strides[0], strides[1]];
  else if (layout === 'NHW') [N, H, W, sn, sh, sw] = [shape[0], shape[1], shape[2], strides[0], strides[1], strides[2]];
  else [N, H, W, sn, sh, sw] = [shape[2], shape[0], shape[1], strides[2], strides[0], strides[1]];
  const out = new Uint8Array(N * H * W);
  let o = 0;
  for (let n = 0; n < N; n++) {
    for (let y = 0; y < H; y++) {
      const base = n * sn + y * sh;
      for (let x = 0; x < W; x++) out[o++] = flat[base + x * sw];
    }
  }
  return out;
}

/**
 * Read an .npy mask file as uint8 (N,H,W) 0/1. Pass the image size to check it and to settle
 * (N,H,W) versus (H,W,N) for small masks. Any problem is a DatasetError naming the file.
 */
export function readMasks(file: string, hint: MaskSizeHint = {}): Masks {
  let bytes: Buffer;
  try {
    bytes = fs.readFileSync(file);
  } catch (err) {
    throw new DatasetError(`cannot read mask: ${(err as NodeJS.ErrnoException).code ?? (err as Error).message}`, file);
  }
  return decodeNpyMasks(bytes, hint, file);
}
