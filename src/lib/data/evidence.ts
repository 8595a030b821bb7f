/**
 * Copy-move evidence as an extra input channel.
 *
 * Copy-move evidence lives at an image's native resolution (a pasted copy agrees with its source
 * bit for bit), and the resize to the training size destroys it. So the evidence map is computed
 * on the decoded image before any augmentation, travels through the geometric augmentations as
 * one more mask plane (flips, turns and the resize move it exactly as they move the truth masks;
 * photometric steps leave it alone), and is split off again and appended to the normalised RGB
 * as a 4th channel with values 0/1. Training (loader) and prediction (run predictor) both go
 * through these functions, so a model sees the same kind of input in both.
 */
import { exactTwinMap } from '../classical/exactTwins';
import { ConfigError } from '../errors';
import type { Image, Masks } from './types';

/** 'none': RGB only. 'exact-twins': pixels of blocks with a pixel-exact twin (classical/exactTwins.ts). */
export type EvidenceKind = 'none' | 'exact-twins';
export const EVIDENCE_KINDS: readonly EvidenceKind[] = ['none', 'exact-twins'];

/** Input channels a model needs for this evidence (RGB + evidence planes). */
export function inputChannels(kind: EvidenceKind | undefined): number {
  return kind && kind !== 'none' ? 4 : 3;
}

export function checkEvidenceKind(kind: unknown, where: string): EvidenceKind {
  if (kind === undefined) return 'none';
  if (!EVIDENCE_KINDS.includes(kind as EvidenceKind)) throw new ConfigError(`${where}: evidence must be one of ${EVIDENCE_KINDS.join(', ')}, got ${JSON.stringify(kind)}`);
  return kind as EvidenceKind;
}

/** The evidence map of an image (H*W, 0/1) at its native resolution; null for 'none'. */
export function computeEvidence(kind: EvidenceKind, image: Image): Uint8Array | null {
  return kind === 'exact-twins' ? exactTwinMap(image) : null;
}

/** The masks with the evidence map appended as their last plane. */
export function appendEvidencePlane(masks: Masks, evidence: Uint8Array): Masks {
  const plane = masks.height * masks.width;
  if (evidence.length !== plane) throw new ConfigError(`evidence map has ${evidence.length} values, expected ${masks.height}x${masks.width}`);
  const data = new Uint8Array((masks.count + 1) * plane);
  data.set(masks.data.subarray(0, masks.count * plane));
  data.set(evidence, masks.count * plane);
  return { data, count: masks.count + 1, height: masks.height, width: masks.width };
}

/** Inverse of appendEvidencePlane after augmentation: the truth masks and the evidence plane. */
export function splitEvidencePlane(masks: Masks): { masks: Masks; evidence: Uint8Array } {
  if (masks.count < 1) throw new ConfigError('no evidence plane to split off (mask count is 0)');
  const plane = masks.height * masks.width;
  const n = masks.count - 1;
  return {
    masks: { data: masks.data.subarray(0, n * plane), count: n, height: masks.height, width: masks.width },
    evidence: masks.data.subarray(n * plane, (n + 1) * plane),
  };
}

/** HWC float pixels (C channels) + one 0/1 evidence plane -> HW(C+1), written into `out` at `offset`. */
export function interleaveEvidence(pixels: Float32Array, channels: number, evidence: Uint8Array, out: Float32Array, offset = 0): void {
  const n = evidence.length;
  if (pixels.length !== n * channels) throw new ConfigError(`interleave: ${pixels.length} pixel values for ${n} evidence values and ${channels} channels`);
  const C1 = channels + 1;
  for (let p = 0; p < n; p++) {
    const o = offset + p * C1;
    for (let c = 0; c < channels; c++) out[o + c] = pixels[p * channels + c];
    out[o + channels] = evidence[p];
  }
}

/**
 * A small bit-packed cache of evidence maps by file, for loaders that see the same images every
 * epoch (an exact-twin map costs ~50 ms per 512 px image, the packed map 1 bit per pixel).
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
