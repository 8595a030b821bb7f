/**
 * Evidence planes cached on disk by image content, so the training notebooks (which share their
 * synthetic sets), reruns and the run predictor compute a figure's evidence once: a twins-blocks map
 * costs ~0.6 s per 0.15-megapixel figure on a 2-core machine, more than a training step.
 *
 * The key hashes the decoded pixels (not the path: the same figure under another name hits, an edited
 * one misses), the kind's planes and the settings they are computed with (evidenceSettings), and
 * EVIDENCE_VERSION, which a change to a plane's algorithm must bump. Entries are bit-packed (one bit per
 * pixel and plane) and written through a temp file + rename; an unreadable or mismatched entry is
 * recomputed and rewritten, never trusted. The folder is SIFD_EVIDENCE_CACHE (`off` disables the disk
 * tier), by default out/cache/evidence in the repository (git-ignored).
 */
import { createHash } from 'crypto';
import * as fs from 'fs';
import * as path from 'path';
import type { Image } from '../data/types';
import { writeFileAtomic } from '../util/atomic';
import { repoPath } from '../util/paths';

/** Bump when a plane's compute changes in a way its settings do not show. */
export const EVIDENCE_VERSION = 1;

const MAGIC = 0x53455631; // 'SEV1'
const HEADER = 16; // magic, width, height, planes (uint32 LE each)

/** The cache folder, or null when the disk tier is off. */
export function evidenceCacheDir(): string | null {
  const env = process.env.SIFD_EVIDENCE_CACHE;
  if (env === 'off' || env === '0') return null;
  return env && env.length > 0 ? env : repoPath('out', 'cache', 'evidence');
}

/** The content key of an image's evidence of one kind: pixels + shape + planes + their settings + version. */
export function evidenceKey(kind: string, settings: string, image: Image): string {
  const h = createHash('sha256');
  h.update(`sifd-evidence:${EVIDENCE_VERSION}:${kind}:${settings}:${image.width}x${image.height}x${image.channels}:`);
  h.update(Buffer.from(image.data.buffer, image.data.byteOffset, image.data.byteLength));
  return h.digest('hex');
}

function entryPath(dir: string, key: string): string {
  return path.join(dir, key.slice(0, 2), `${key}.bin`);
}

/** The cached planes (H*W per plane, 0/1), or undefined when absent, unreadable or of another shape. */
export function readCachedEvidence(dir: string, key: string, width: number, height: number, planes: number): Uint8Array | undefined {
  let buf: Buffer;
  try {
    buf = fs.readFileSync(entryPath(dir, key));
  } catch {
    return undefined;
  }
  const n = width * height * planes;
  if (buf.length !== HEADER + ((n + 7) >> 3)) return undefined;
  if (buf.readUInt32LE(0) !== MAGIC || buf.readUInt32LE(4) !== width || buf.readUInt32LE(8) !== height || buf.readUInt32LE(12) !== planes) return undefined;
  const out = new Uint8Array(n);
  for (let p = 0; p < n; p++) out[p] = (buf[HEADER + (p >> 3)] >> (p & 7)) & 1;
  return out;
}

/** Stores the planes; a failed write (read-only folder, full disk) only costs the next run a recompute. */
export function writeCachedEvidence(dir: string, key: string, width: number, height: number, planes: number, map: Uint8Array): void {
  const buf = Buffer.alloc(HEADER + ((map.length + 7) >> 3));
  buf.writeUInt32LE(MAGIC, 0);
  buf.writeUInt32LE(width, 4);
  buf.writeUInt32LE(height, 8);
  buf.writeUInt32LE(planes, 12);
  for (let p = 0; p < map.length; p++) if (map[p]) buf[HEADER + (p >> 3)] |= 1 << (p & 7);
  try {
    const file = entryPath(dir, key);
    fs.mkdirSync(path.dirname(file), { recursive: true });
    writeFileAtomic(file, buf);
  } catch {
    // a cache, not a store: nothing is lost
  }
}
