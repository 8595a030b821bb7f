import * as zlib from 'node:zlib';
import { WeightsError } from '../errors';

/**
 * The little of the zip format `torch.save` writes (stored entries, sizes in the local headers):
 * enough to find each record's bytes without a dependency. Read from the central directory; when
 * the file is cut short and has none, the local headers are walked from the start instead, so a
 * truncated checkpoint still yields the records before the cut and the caller can name what is lost.
 */
export interface ZipEntry {
  name: string;
  /** 0 stored, 8 deflated. */
  method: number;
  /** Where the entry's (possibly compressed) bytes start in the file. */
  dataOffset: number;
  compressedSize: number;
  size: number;
}

export interface ZipDirectory {
  entries: Map<string, ZipEntry>;
  /** False when the central directory was missing (a cut file) and local headers were walked. */
  complete: boolean;
}

const LOCAL = 0x04034b50;
const CENTRAL = 0x02014b50;
const END = 0x06054b50;

export function isZip(bytes: Uint8Array): boolean {
  return bytes.length >= 4 && new DataView(bytes.buffer, bytes.byteOffset, 4).getUint32(0, true) === LOCAL;
}

export function readZipDirectory(bytes: Uint8Array, file: string): ZipDirectory {
  const view = new DataView(bytes.buffer, bytes.byteOffset, bytes.byteLength);
  const end = findEnd(view);
  if (end < 0) return { entries: walkLocalHeaders(view, file), complete: false };
  const count = view.getUint16(end + 10, true);
  let at = view.getUint32(end + 16, true);
  if (at === 0xffffffff || count === 0xffff) throw new WeightsError('zip64 archives (over 4 GB) are not supported', file);
  const entries = new Map<string, ZipEntry>();
  for (let i = 0; i < count; i++) {
    if (at + 46 > bytes.length || view.getUint32(at, true) !== CENTRAL) throw new WeightsError(`corrupt zip: central directory entry ${i} is not where the directory says`, file);
    const nameLen = view.getUint16(at + 28, true);
    const name = Buffer.from(bytes.buffer, bytes.byteOffset + at + 46, nameLen).toString('utf8');
    const local = view.getUint32(at + 42, true);
    const compressedSize = view.getUint32(at + 20, true);
    const size = view.getUint32(at + 24, true);
    if (local === 0xffffffff || compressedSize === 0xffffffff) throw new WeightsError('zip64 archives (over 4 GB) are not supported', file);
    const dataOffset = local + 30 + view.getUint16(local + 26, true) + view.getUint16(local + 28, true);
    entries.set(name, { name, method: view.getUint16(at + 10, true), dataOffset, compressedSize, size });
    at += 46 + nameLen + view.getUint16(at + 30, true) + view.getUint16(at + 32, true);
  }
  return { entries, complete: true };
}

/** The end-of-central-directory record (searched backwards over a possible comment), or -1. */
function findEnd(view: DataView): number {
  for (let at = view.byteLength - 22; at >= Math.max(0, view.byteLength - 22 - 0xffff); at--) {
    if (view.getUint32(at, true) === END) return at;
  }
  return -1;
}

function walkLocalHeaders(view: DataView, file: string): Map<string, ZipEntry> {
  const entries = new Map<string, ZipEntry>();
  const bytes = Buffer.from(view.buffer, view.byteOffset, view.byteLength);
  let at = 0;
  while (at + 30 <= view.byteLength && view.getUint32(at, true) === LOCAL) {
    const nameLen = view.getUint16(at + 26, true);
    if (at + 30 + nameLen > view.byteLength) break;
    const name = bytes.toString('utf8', at + 30, at + 30 + nameLen);
    const dataOffset = at + 30 + nameLen + view.getUint16(at + 28, true);
    const method = view.getUint16(at + 8, true);
    // torch.save's writer streams: sizes 0 here, the real ones in a data descriptor after the data.
    const streamed = (view.getUint16(at + 6, true) & 0x8) !== 0;
    const next = streamed ? nextAfterDescriptor(view, bytes, dataOffset) : null;
    const compressedSize = streamed ? (next ? next.size : view.byteLength - dataOffset + 1) : view.getUint32(at + 18, true);
    const size = streamed ? (next ? next.size : compressedSize) : view.getUint32(at + 22, true);
    entries.set(name, { name, method, dataOffset, compressedSize, size });
    if (streamed && !next) break; // the data runs past the end of the file
    at = streamed ? next!.header : dataOffset + compressedSize;
  }
  if (entries.size === 0) throw new WeightsError('truncated or corrupt zip: no central directory and no readable entry', file);
  return entries;
}

/**
 * The next local header after a streamed entry's data, found by its signature and confirmed by
 * the data descriptor just before it (signature + sizes equal to the distance travelled), so
 * tensor bytes that happen to contain the signature are not mistaken for it. Null if none.
 */
function nextAfterDescriptor(view: DataView, bytes: Buffer, dataOffset: number): { header: number; size: number } | null {
  const sig = Buffer.from([0x50, 0x4b, 0x03, 0x04]);
  for (let at = bytes.indexOf(sig, dataOffset); at >= 0; at = bytes.indexOf(sig, at + 1)) {
    for (const [len, wide] of [[16, false], [24, true]] as const) {
      const d = at - len;
      if (d < dataOffset || view.getUint32(d, true) !== 0x08074b50) continue;
      const size = wide ? Number(view.getBigUint64(d + 8, true)) : view.getUint32(d + 8, true);
      if (size === d - dataOffset) return { header: at, size };
    }
  }
  return null;
}

/** Whether all of the entry's bytes are in the file. */
export function entryComplete(bytes: Uint8Array, e: ZipEntry): boolean {
  return e.dataOffset + e.compressedSize <= bytes.length;
}

/** The entry's uncompressed bytes (a view into `bytes` for stored entries). */
export function entryBytes(bytes: Uint8Array, e: ZipEntry, file: string): Uint8Array {
  if (!entryComplete(bytes, e)) throw new WeightsError(`truncated file: zip entry '${e.name}' needs bytes up to ${e.dataOffset + e.compressedSize}, the file has ${bytes.length}`, file);
  const raw = bytes.subarray(e.dataOffset, e.dataOffset + e.compressedSize);
  if (e.method === 0) return raw;
  if (e.method === 8) return zlib.inflateRawSync(raw);
  throw new WeightsError(`zip entry '${e.name}' uses compression method ${e.method}; only stored (0) and deflate (8) are read`, file);
}
