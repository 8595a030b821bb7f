import * as fs from 'node:fs';
import { WeightsError } from '../errors';
import { DTYPES, decodeElements, type StateDict, type StoredTensor } from './stateDict';

/**
 * Read a `.safetensors` file: an 8-byte little-endian header length, a JSON header
 * (`{name: {dtype, shape, data_offsets: [begin, end]}, "__metadata__": {...}}`), then the raw
 * little-endian tensor bytes, offsets relative to the end of the header.
 */
export function readSafetensors(file: string): StateDict {
  let bytes: Uint8Array;
  try {
    bytes = fs.readFileSync(file);
  } catch (e) {
    throw new WeightsError(`cannot read: ${(e as NodeJS.ErrnoException).code ?? (e as Error).message}`, file);
  }
  return parseSafetensors(bytes, file);
}

export function parseSafetensors(bytes: Uint8Array, file: string): StateDict {
  if (bytes.length < 8) throw new WeightsError(`truncated safetensors file: ${bytes.length} bytes, not even the 8-byte header length`, file);
  const headerLen = Number(new DataView(bytes.buffer, bytes.byteOffset, 8).getBigUint64(0, true));
  if (8 + headerLen > bytes.length) {
    throw new WeightsError(`truncated safetensors file: header says ${headerLen} header bytes, the file has ${bytes.length - 8} after the length`, file);
  }
  let header: Record<string, { dtype: string; shape: number[]; data_offsets: [number, number] }>;
  try {
    header = JSON.parse(Buffer.from(bytes.buffer, bytes.byteOffset + 8, headerLen).toString('utf8'));
  } catch (e) {
    throw new WeightsError(`not a safetensors file: the header is not JSON (${(e as Error).message})`, file);
  }
  const dataStart = 8 + headerLen;
  const tensors = new Map<string, StoredTensor>();
  for (const [name, entry] of Object.entries(header)) {
    if (name === '__metadata__') continue;
    const dtype = DTYPES[entry.dtype];
    if (!dtype) throw new WeightsError(`tensor '${name}' has dtype '${entry.dtype}', which sifd cannot read (${Object.keys(DTYPES).join(', ')})`, file);
    const count = entry.shape.reduce((a, b) => a * b, 1);
    const [begin, end] = entry.data_offsets;
    if (end - begin !== count * dtype.bytes) {
      throw new WeightsError(`tensor '${name}' spans ${end - begin} bytes, its shape [${entry.shape.join(', ')}] of ${entry.dtype} needs ${count * dtype.bytes}`, file);
    }
    if (dataStart + end > bytes.length) {
      throw new WeightsError(`truncated safetensors file: tensor '${name}' ends at byte ${dataStart + end}, the file has ${bytes.length}`, file);
    }
    tensors.set(name, { shape: entry.shape, dtype: entry.dtype, data: decodeElements(bytes, dataStart + begin, count, entry.dtype) });
  }
  return { file, tensors };
}
