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
 *
 * Planes are a registry (name, compute, trusted or gated); a kind is a named list of planes, the
 * channels a run appends to RGB. A new plane is one registerEvidencePlane + registerEvidenceKind.
 */
import { BLOCK_DEFAULTS, blockPairs, blockTwinMap } from '../classical/blockMatch';
import { exactTwinMap } from '../classical/exactTwins';
import { toGray } from '../classical/grayscale';
import { DEFAULT_PARAMS } from '../classical/params';
import { resampledTwinMap } from '../classical/resampledTwins';
import type { Image, Masks } from '../data/types';
import { ConfigError, didYouMean } from '../errors';
import type { CopyLinks } from '../infer/copy-link-events';
import { evidenceCacheDir, evidenceKey, readCachedEvidence, writeCachedEvidence } from './disk-cache';

/** One evidence plane: a 0/1 map of an image at its native resolution. */
export interface EvidencePlane {
  name: string;
  description: string;
  /** The H*W 0/1 map of `image` (RGB). */
  compute(image: Image): Uint8Array;
  /**
   * Its regions join a prediction whatever the model says (unless evidenceKeep is null); the
   * regions of an untrusted plane join only when the model's mean probability over them reaches
   * evidenceKeep (infer/postprocess.ts, keepVerifiedEvidence).
   */
  trusted: boolean;
}

const planes = new Map<string, EvidencePlane>();
const kinds = new Map<string, readonly string[]>();

export function registerEvidencePlane(plane: EvidencePlane): void {
  if (planes.has(plane.name)) throw new ConfigError(`evidence plane '${plane.name}' is registered twice`);
  planes.set(plane.name, plane);
}

/** An evidence kind: the planes (registered names) appended to RGB, in order. */
export function registerEvidenceKind(name: string, planeNames: readonly string[]): void {
  if (kinds.has(name)) throw new ConfigError(`evidence kind '${name}' is registered twice`);
  for (const p of planeNames) if (!planes.has(p)) throw new ConfigError(`evidence kind '${name}': unknown plane '${p}'; ${didYouMean(p, [...planes.keys()])}`);
  kinds.set(name, [...planeNames]);
}

/** A kind's planes, in channel order. */
export function kindPlanes(kind: EvidenceKind | undefined): EvidencePlane[] {
  return (kinds.get(kind ?? 'none') ?? []).map((n) => planes.get(n)!);
}

/** Kinds with their planes, for help texts and notebooks. */
export function listEvidenceKinds(): Array<{ name: string; planes: EvidencePlane[] }> {
  return [...kinds.keys()].map((name) => ({ name, planes: kindPlanes(name) }));
}

/** A registered evidence kind's name ('none', 'exact-twins', 'twins-blocks', 'twins-blocks-resampled', ...). */
export type EvidenceKind = string;

/** Block-matching settings of the evidence plane: fewer votes than the classical detector needs (the model judges). */
const BLOCK_EVIDENCE = { ...BLOCK_DEFAULTS, blockMinVotes: 32 };

registerEvidencePlane({
  name: 'exact-twins',
  description: 'the pixels of blocks with a pixel-exact twin (classical/exactTwins.ts)',
  compute: (image) => exactTwinMap(image),
  trusted: false,
});
registerEvidencePlane({
  name: 'blocks',
  description: 'the blocks behind block-matching transforms (classical/blockMatch.ts, blockTwinMap), which also catch copies with a brightness change (and some with light noise or blur)',
  compute: (image) => blockTwinMap(toGray(image), BLOCK_EVIDENCE, DEFAULT_PARAMS.minDistance),
  trusted: false,
});
/*
 * Trusted: a region here agrees with another region pixel for pixel under a similarity that is no
 * block symmetry and stops agreeing when moved by two pixels; on the seed-5 tuning set it marked 1
 * of 69 authentic figures, and trusting it raised every validation column there (README). The other
 * planes hold repeated glyphs and look-alike blocks, so the model vets their regions (evidenceKeep).
 */
registerEvidencePlane({
  name: 'resampled-twins',
  description: 'copies turned by any angle or rescaled with nearest-neighbour sampling, with their sources (classical/resampledTwins.ts)',
  compute: (image) => resampledTwinMap(image),
  trusted: true,
});
registerEvidenceKind('none', []);
registerEvidenceKind('exact-twins', ['exact-twins']);
registerEvidenceKind('twins-blocks', ['exact-twins', 'blocks']);
registerEvidenceKind('twins-blocks-resampled', ['exact-twins', 'blocks', 'resampled-twins']);

/**
 * The block pairs of the 'blocks' plane, with their ends: which regions of an image are copies of
 * which (the run predictor's 'copy-links' event policy groups a model's regions by them).
 */
export function copyLinks(image: Image): CopyLinks {
  return blockPairs(toGray(image), BLOCK_EVIDENCE, DEFAULT_PARAMS.minDistance);
}

/** The registered kinds, in registration order. */
export const EVIDENCE_KINDS: readonly EvidenceKind[] = [...kinds.keys()];

/** Evidence planes of a kind. */
export function evidencePlanes(kind: EvidenceKind | undefined): number {
  return kindPlanes(kind).length;
}

/** Input channels a model needs for this evidence (RGB + evidence planes). */
export function inputChannels(kind: EvidenceKind | undefined): number {
  return 3 + evidencePlanes(kind);
}

export function checkEvidenceKind(kind: unknown, where: string): EvidenceKind {
  if (kind === undefined) return 'none';
  if (typeof kind !== 'string' || !kinds.has(kind)) throw new ConfigError(`${where}: evidence must be one of ${[...kinds.keys()].join(', ')}, got ${JSON.stringify(kind)}`);
  return kind;
}

/** The evidence planes of an image (each H*W, 0/1) at its native resolution, one after another; null for a kind without planes. */
export function computeEvidence(kind: EvidenceKind, image: Image): Uint8Array | null {
  const list = kindPlanes(kind);
  if (list.length === 0) return null;
  if (list.length === 1) return list[0].compute(image);
  const n = image.width * image.height;
  const out = new Uint8Array(list.length * n);
  list.forEach((plane, i) => out.set(plane.compute(image), i * n));
  return out;
}

/** What the planes are computed with, part of the disk cache's key (a changed setting misses). */
const EVIDENCE_SETTINGS = JSON.stringify({ block: BLOCK_EVIDENCE, minDistance: DEFAULT_PARAMS.minDistance });

/**
 * computeEvidence through the disk cache (disk-cache.ts): the planes of an image already seen (by
 * content) are read back instead of computed.
 */
export function computeEvidenceCached(kind: EvidenceKind, image: Image): Uint8Array | null {
  const planes = evidencePlanes(kind);
  const dir = evidenceCacheDir();
  if (planes === 0 || dir === null) return computeEvidence(kind, image);
  const key = evidenceKey(`${kind}=${kindPlanes(kind).map((p) => p.name).join('+')}`, EVIDENCE_SETTINGS, image);
  const hit = readCachedEvidence(dir, key, image.width, image.height, planes);
  if (hit) return hit;
  const map = computeEvidence(kind, image)!;
  writeCachedEvidence(dir, key, image.width, image.height, planes, map);
  return map;
}

/** Union of the planes: every pixel some evidence marks (the regions a predictor verifies). */
export function evidenceUnion(planes: Uint8Array, n: number): Uint8Array {
  if (planes.length % n !== 0) throw new ConfigError(`evidence has ${planes.length} values, not a whole number of ${n}-pixel planes`);
  const out = planes.slice(0, n);
  for (let o = n; o < planes.length; o += n) for (let p = 0; p < n; p++) out[p] |= planes[o + p];
  return out;
}

/** The union of the kind's trusted planes (regions that join a prediction whatever the model says), or null when it has none. */
export function trustedEvidencePlane(kind: EvidenceKind, evidence: Uint8Array, n: number): Uint8Array | null {
  const list = kindPlanes(kind);
  const trusted = list.map((p, i) => (p.trusted ? i : -1)).filter((i) => i >= 0);
  if (trusted.length === 0) return null;
  if (evidence.length !== list.length * n) throw new ConfigError(`${kind} evidence has ${evidence.length} values, not ${NUMBER_WORDS[list.length] ?? list.length} ${n}-pixel planes`);
  if (trusted.length === 1) return evidence.subarray(trusted[0] * n, (trusted[0] + 1) * n);
  return evidenceUnion(Uint8Array.from(trusted.flatMap((i) => [...evidence.subarray(i * n, (i + 1) * n)])), n);
}

const NUMBER_WORDS = ['no', 'one', 'two', 'three', 'four', 'five'];

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
