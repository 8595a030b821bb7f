/**
 * Copy-move evidence as an extra input channel.
 *
 * Copy-move evidence lives at an image's native resolution (a pasted copy agrees with its source
 * bit for bit), and the resize to the training size destroys it. So the evidence map is computed
 * on the decoded image before any augmentation, travels through the geometric augmentations as
 * more mask planes (flips, turns and the resize move them exactly as they move the truth masks;
 * photometric steps leave them alone), and is split off again and appended to the normalised RGB
 * as extra channels with values 0/1. Training (loader) and prediction (run predictor) both go
 * through these functions, so a model sees the same kind of input in both.
 */
import { BLOCK_DEFAULTS, blockTwinMap } from '../classical/blockMatch';
import { exactTwinMap } from '../classical/exactTwins';
import { toGray } from '../classical/grayscale';
import { DEFAULT_PARAMS } from '../classical/params';
import { resampledTwinMap } from '../classical/resampledTwins';
import { ConfigError } from '../errors';
import type { Image, Masks } from './types';

/**
 * 'none': RGB only.
 * 'exact-twins': one plane, the pixels of blocks with a pixel-exact twin (classical/exactTwins.ts).
 * 'twins-blocks': two planes, exact twins and the blocks behind block-matching transforms
 * (classical/blockMatch.ts, blockTwinMap), which also catch copies with a brightness change
 * (and some with light noise or blur).
 * 'twins-blocks-resampled': three planes, those two and the copies turned by any angle or
 * rescaled with nearest-neighbour sampling, with their sources (classical/resampledTwins.ts).
 */
export type EvidenceKind = 'none' | 'exact-twins' | 'twins-blocks' | 'twins-blocks-resampled';
export const EVIDENCE_KINDS: readonly EvidenceKind[] = ['none', 'exact-twins', 'twins-blocks', 'twins-blocks-resampled'];

/** Evidence planes of a kind. */
export function evidencePlanes(kind: EvidenceKind | undefined): number {
  return kind === 'twins-blocks-resampled' ? 3 : kind === 'twins-blocks' ? 2 : kind === 'exact-twins' ? 1 : 0;
}

/** Input channels a model needs for this evidence (RGB + evidence planes). */
export function inputChannels(kind: EvidenceKind | undefined): number {
  return 3 + evidencePlanes(kind);
}

/** Block-matching settings of the evidence plane: fewer votes than the classical detector needs (the model judges). */
const BLOCK_EVIDENCE = { ...BLOCK_DEFAULTS, blockMinVotes: 32 };

export function checkEvidenceKind(kind: unknown, where: string): EvidenceKind {
  if (kind === undefined) return 'none';
  if (!EVIDENCE_KINDS.includes(kind as EvidenceKind)) throw new ConfigError(`${where}: evidence must be one of ${EVIDENCE_KINDS.join(', ')}, got ${JSON.stringify(kind)}`);
  return kind as EvidenceKind;
}

/** The evidence planes of an image (each H*W, 0/1) at its native resolution, one after another; null for 'none'. */
export function computeEvidence(kind: EvidenceKind, image: Image): Uint8Array | null {
  if (kind === 'none') return null;
  const twins = exactTwinMap(image);
  if (kind === 'exact-twins') return twins;
  const n = image.width * image.height;
  const out = new Uint8Array(evidencePlanes(kind) * n);
  out.set(twins);
  out.set(blockTwinMap(toGray(image), BLOCK_EVIDENCE, DEFAULT_PARAMS.minDistance), n);
  if (kind === 'twins-blocks-resampled') out.set(resampledTwinMap(image), 2 * n);
  return out;
}

/** Union of the planes: every pixel some evidence marks (the regions a predictor verifies). */
export function evidenceUnion(planes: Uint8Array, n: number): Uint8Array {
  if (planes.length % n !== 0) throw new ConfigError(`evidence has ${planes.length} values, not a whole number of ${n}-pixel planes`);
  const out = planes.slice(0, n);
  for (let o = n; o < planes.length; o += n) for (let p = 0; p < n; p++) out[p] |= planes[o + p];
  return out;
}

/**
 * The plane whose regions join a prediction whatever the model says, or null: resampled twins
 * (twins-blocks-resampled's third plane). A region there agrees with another region pixel for pixel
 * under a similarity that is no block symmetry and stops agreeing when moved by two pixels; on the
 * seed-5 tuning set it marked 1 of 69 authentic figures, and trusting it raised every validation
 * column there (eighth session, README). The other planes hold repeated glyphs and look-alike
 * blocks, so the model vets their regions (evidenceKeep).
 */
export function trustedEvidencePlane(kind: EvidenceKind, planes: Uint8Array, n: number): Uint8Array | null {
  if (kind !== 'twins-blocks-resampled') return null;
  if (planes.length !== 3 * n) throw new ConfigError(`twins-blocks-resampled evidence has ${planes.length} values, not three ${n}-pixel planes`);
  return planes.subarray(2 * n, 3 * n);
}

/** The masks with the evidence planes appended after them. */
export function appendEvidencePlanes(masks: Masks, evidence: Uint8Array): Masks {
  const plane = masks.height * masks.width;
  if (plane === 0 || evidence.length % plane !== 0 || evidence.length === 0) {
    throw new ConfigError(`evidence has ${evidence.length} values, not whole ${masks.height}x${masks.width} planes`);
  }
  const k = evidence.length / plane;
  const data = new Uint8Array((masks.count + k) * plane);
  data.set(masks.data.subarray(0, masks.count * plane));
  data.set(evidence, masks.count * plane);
  return { data, count: masks.count + k, height: masks.height, width: masks.width };
}

/** Inverse of appendEvidencePlanes after augmentation: the truth masks and the last `k` planes. */
export function splitEvidencePlanes(masks: Masks, k: number): { masks: Masks; evidence: Uint8Array } {
  if (masks.count < k) throw new ConfigError(`no ${k} evidence planes to split off (mask count is ${masks.count})`);
  const plane = masks.height * masks.width;
  const n = masks.count - k;
  return {
    masks: { data: masks.data.subarray(0, n * plane), count: n, height: masks.height, width: masks.width },
    evidence: masks.data.subarray(n * plane, masks.count * plane),
  };
}

/** HWC float pixels (C channels) + k evidence planes -> HW(C+k), written into `out` at `offset`. */
export function interleaveEvidence(pixels: Float32Array, channels: number, evidence: Uint8Array, out: Float32Array, offset = 0): void {
  const n = pixels.length / channels;
  const k = evidence.length / n;
  if (!Number.isInteger(n) || !Number.isInteger(k) || k < 1) throw new ConfigError(`interleave: ${pixels.length} pixel values (${channels} channels) and ${evidence.length} evidence values do not fit`);
  const C1 = channels + k;
  for (let p = 0; p < n; p++) {
    const o = offset + p * C1;
    for (let c = 0; c < channels; c++) out[o + c] = pixels[p * channels + c];
    for (let e = 0; e < k; e++) out[o + channels + e] = evidence[e * n + p];
  }
}

/**
 * A small bit-packed cache of evidence planes by file, for loaders that see the same images every
 * epoch (an exact-twin map costs ~50 ms per 512 px image, a block map ~80 ms; packed, 1 bit per pixel).
 */
export class EvidenceCache {
  private readonly maps = new Map<string, { bits: Uint8Array; n: number }>();
  private bytes = 0;
  constructor(private readonly maxBytes = 256 * 1024 * 1024) {}

  get(key: string): Uint8Array | undefined {
    const e = this.maps.get(key);
    if (!e) return undefined;
    const out = new Uint8Array(e.n);
    for (let p = 0; p < e.n; p++) out[p] = (e.bits[p >> 3] >> (p & 7)) & 1;
    return out;
  }

  set(key: string, map: Uint8Array): void {
    const bits = new Uint8Array((map.length + 7) >> 3);
    for (let p = 0; p < map.length; p++) if (map[p]) bits[p >> 3] |= 1 << (p & 7);
    if (this.bytes + bits.length > this.maxBytes || this.maps.has(key)) return;
    this.maps.set(key, { bits, n: map.length });
    this.bytes += bits.length;
  }
}
