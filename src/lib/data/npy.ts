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
