/**
 * The classical copy-move detector: grey -> working size -> contrast normalisation -> the proposal
 * stages (stages.ts: keypoints -> g2NN self-matching -> clusters -> RANSAC, optionally SIFT keypoints the
 * same way; dense block matching; rotation-invariant dense matching) -> one dense ZNCC verification with text-label suppression ->
 * one merge into copy-move events (events.ts: a source and all of its copies per instance) at the
 * original size, which the region stages' verified regions (resampled twins) join -> the gate ->
 * copied lanes of blots and gels (verified by their pixel noise, so not gated) join.
 */
import type { Image, Masks } from '../data/types';
import { ConfigError } from '../errors';
import { maskBox } from '../data/components';
import { normalizeContrast } from './contrast';
import { type Affine, cornersMoveAlike, type CopyTransform } from './geometry';
import { toGray, toWorkingSize, type GrayImage } from './grayscale';
import { prepareHammingKernel } from './hammingKernel';
import { isNativeStage, NATIVE_STAGES, type NativeStageName, type NativeStageResult } from './nativeStages';
import { mapContext, SHARED_MAPS, touches } from './sharedMaps';
import { nextDetection, prepareStageWorker, shareMap, startStagesAhead } from './stageWorker';
import { loadOpenCv, type OpenCv } from './opencv';
import { type ClassicalParams, type ClassicalParamsInput, resolveParams } from './params';
import { type RejectedFit, rescaleTransform } from './ransac';
import { detectionMemo, type KeypointTrace, STAGES, type StageInput, type TransformStage } from './stages';
import { isTextLike } from './textLabels';
import { blurredAgreement, COMPARED_BLUR_SIGMA } from './blurredCopy';
import { growCopyRim } from './copyRim';
import { detailDrop, imageWindows, type VerifiedCopy } from './verify';
import { maskGrain } from './exactRegions';
import { addTwinEvents, type CopyEvent, gateEvents, pairsToInstances, type VerifiedPair } from './events';

/** What happened to each fitted transform, for plots and tuning. All coordinates: original pixels. */
export interface CopyCandidate {
  affine: Affine;
  inliers: number;
  cluster: number;
  flipped: boolean;
  /** The proposal stage that found it. */
  stage?: string;
  meanZncc: number;
  support: number;
  detail: number;
  /** The smaller of the verified source and copy regions, in working-frame pixels. */
  area: number;
  /** How much the detail correlation falls with the transform moved 2 px (verify.ts detailDrop); measured once the other checks pass. */
  detailDrop?: number;
  /** Mean ZNCC with its source or copy blurred (blurredCopy.ts); measured for accepted copies below minEventScore. */
  blurredZncc?: number;
  accepted: boolean;
  /** Why it was rejected, with the numbers. */
  reason?: string;
  /** The kind of rejection, without numbers (for counting): e.g. 'ZNCC support too low'. */
  rejectedFor?: string;
}

export interface DetectionDebug {
  /** Working-image size and its factor relative to the original (working = original * scale). */
  scale: number;
  keypoints: { x: Float32Array; y: Float32Array; mirroredCount: number };
  matches: { ax: Float32Array; ay: Float32Array; bx: Float32Array; by: Float32Array; flipped: Uint8Array; cluster: Int32Array };
  clusters: { size: number }[];
  candidates: CopyCandidate[];
  rejectedFits: RejectedFit[];
  timings: Record<string, number>;
}

export interface CopyMoveDetection {
  /** (N,H,W) at the original size: one copy-move event per instance (params.events). */
  instances: Masks;
  scores: number[];
  /** What a user should know about this image's result: resizing, why nothing was found, what the gate did. */
  notes: string[];
  debug: DetectionDebug;
}

export async function detectCopyMove(image: Image, params: ClassicalParamsInput = {}): Promise<CopyMoveDetection> {
  const p = resolveParams(params);
  // on failure matching stays in JavaScript, and the native-image stages on this thread, with the same results
  const [cv] = await Promise.all([loadOpenCv(), prepareHammingKernel(), p.stageWorker ? prepareStageWorker() : undefined]);
  return detectWith(cv, image, p);
}

export function detectWith(cv: OpenCv, image: Image, p: ClassicalParams): CopyMoveDetection {
  const timings: Record<string, number> = {};
  let t0 = performance.now();
  // a stage's time adds up over its laps (a stage run ahead: the worker's time on it, then the merge of its result)
  const lap = (name: string) => {
    const t = performance.now();
    timings[name] = (timings[name] ?? 0) + t - t0;
    t0 = t;
  };
  const native = toGray(image);
  const { gray, scale } = toWorkingSize(cv, native, p.minSide, p.maxSide);
  const eq = normalizeContrast(cv, gray, p.contrast, p.claheClip, p.claheTiles);
  lap('preprocess');
  const stages = STAGES.filter((s) => s.enabled(p));
  const memo = detectionMemo();
  const ahead = p.stageWorker ? startStagesAhead({ image, native, p, scale }, stages.map((s) => s.name).filter(isNativeStage)) : undefined;
  const runNative = <K extends NativeStageName>(name: K): NativeStageResult<K> => {
    const got = ahead?.take(name);
    if (!got) return NATIVE_STAGES[name]({ image, native, p, scale, memo }) as NativeStageResult<K>;
    lap('stage worker wait');
    timings[name] = (timings[name] ?? 0) + got.ms;
    return got.result;
  };
  const input: StageInput = { cv, image, native, gray, eq, scale, p, lap, memo, runNative };
  const { transforms, trace } = proposeTransforms(stages.filter((s): s is TransformStage => s.kind === 'transforms'), input);

  const { pairs, candidates } = verifyTransforms(gray, transforms, scale, p);
  lap('verify');
  let events = upscale(cv, pairsToInstances(pairs, p.events, gray.width), gray, image.width, image.height, scale);
  lap('upscale');
  const notes = sizeNotes(image, gray, scale, p);
  const keypoints = trace.kp.count + (trace.kpMirror?.count ?? 0);
  if (pairs.length > 0) notes.push(`${pairs.length} transform(s) verified -> ${events.length} ${p.events === 'transform' ? 'event(s)' : 'region(s)'}`);
  else notes.push(nothingVerified(transforms.length, candidates, trace.rejected, keypoints));
  const regionStages = (afterGate: boolean) => {
    for (const stage of stages) {
      if (stage.kind !== 'regions' || Boolean(stage.afterGate) !== afterGate) continue;
      const minArea = stage.minArea?.(p, image.width, image.height) ?? p.minRegionFraction * image.width * image.height;
      const { joined, added } = addTwinEvents(events, stage.propose(input), p.events, image.height, image.width, minArea);
      if (joined + added > 0) notes.push(`${stage.name}: ${joined} joined a found ${p.events === 'transform' ? 'event' : 'region'}, ${added} added`);
      lap(stage.name);
    }
  };
  regionStages(false);
  const gated = gateEvents(events, p, native.data);
  events = gated.kept;
  notes.push(...gated.notes);
  regionStages(true);
  // maxEvents bounds the output: events that joined after the gate come after the gated ones
  if (p.maxEvents > 0 && events.length > p.maxEvents) {
    notes.push(`kept the first ${p.maxEvents} of ${events.length} events (maxEvents)`);
    events = events.slice(0, p.maxEvents);
  }
  if (ahead?.problem) notes.push(`${ahead.problem}: the native-image stages ran on the main thread`);
  const n = image.width * image.height;
  const data = new Uint8Array(events.length * n);
  events.forEach((e, k) => data.set(e.mask, k * n));
  const instances: Masks = { data, count: events.length, height: image.height, width: image.width };
  return { instances, scores: events.map((e) => e.score), notes, debug: debugOf(trace, scale, candidates, timings) };
}

/**
 * The candidate transforms of every transform stage, in the working frame: native-resolution
 * proposals are brought into it (x_w = scale * x) and numbered after the clusters before them.
 */
function proposeTransforms(stages: readonly TransformStage[], input: StageInput): { transforms: CopyTransform[]; trace: KeypointTrace } {
  const transforms: CopyTransform[] = [];
  let trace: KeypointTrace | undefined;
  for (const stage of stages) {
    const proposed = stage.propose(input);
    trace ??= proposed.trace;
    const clusters = trace?.clusters.length ?? 0;
    for (const t of proposed.transforms) {
      const framed = proposed.frame === 'working' ? t : { ...rescaleTransform(t, input.scale), cluster: clusters + transforms.length };
      transforms.push({ ...framed, stage: stage.name });
    }
  }
  if (!trace) throw new ConfigError('the classical detector needs its keypoint stage');
  return { transforms, trace };
}

/** Keypoints, matches and candidates in original pixels, for plots and tuning. */
function debugOf(trace: KeypointTrace, scale: number, candidates: CopyCandidate[], timings: Record<string, number>): DetectionDebug {
  const { kp, kpMirror, matches } = trace;
  const inv = 1 / scale;
  const scaleArr = (a: Float32Array) => a.map((v) => v * inv);
  return {
    scale,
    keypoints: {
      x: scaleArr(concat(kp.x, kpMirror?.x)),
      y: scaleArr(concat(kp.y, kpMirror?.y)),
      mirroredCount: kpMirror?.count ?? 0,
    },
    matches: {
      ax: scaleArr(matches.ax),
      ay: scaleArr(matches.ay),
      bx: scaleArr(matches.bx),
      by: scaleArr(matches.by),
      flipped: matches.flipped,
      cluster: trace.clusterOf,
    },
    clusters: trace.clusters.map((c) => ({ size: c.members.length })),
    candidates,
    rejectedFits: trace.rejected,
    timings,
  };
}

function concat(a: Float32Array, b?: Float32Array): Float32Array {
  if (!b) return a;
  const out = new Float32Array(a.length + b.length);
  out.set(a);
  out.set(b, a.length);
  return out;
}

/** Conjugates a working-frame affine into the original frame: S^-1 A S with S = scale. */
function toOriginal(a: Affine, scale: number): Affine {
  return [a[0], a[1], a[2] / scale, a[3], a[4], a[5] / scale];
}

/** One transform proposed twice: linear parts within 0.01, translations within a pixel (working frame). */
function nearlySameAffine(a: Affine, b: Affine): boolean {
  return Math.abs(a[0] - b[0]) <= 0.01 && Math.abs(a[1] - b[1]) <= 0.01 && Math.abs(a[3] - b[3]) <= 0.01 && Math.abs(a[4] - b[4]) <= 0.01 && Math.abs(a[2] - b[2]) <= 1 && Math.abs(a[5] - b[5]) <= 1;
}

/**
 * Whether one of the `structure` transforms moves the corners of `region`'s box to within `tolerance`
 * pixels of where `a` moves them (the box is found once, not per structure transform).
 */
function movesLikeStructure(structure: readonly Affine[], a: Affine, region: Uint8Array, width: number, tolerance: number): boolean {
  if (!structure.length) return false;
  const box = maskBox(region, width);
  return box !== null && structure.some((s) => cornersMoveAlike(s, a, box.x1, box.y1, box.x2, box.y2, tolerance));
}

/** Working-frame instances -> the original size (bilinear then threshold, so edges stay smooth; motions conjugated). */
function upscale(cv: OpenCv, instances: CopyEvent[], gray: GrayImage, width: number, height: number, scale: number): CopyEvent[] {
  return instances.map(({ mask: m, motions, ...working }) => {
    const rest = { ...working, ...(motions && { motions: motions.map((a) => toOriginal(a, scale)) }) };
    const dst = new Uint8Array(width * height);
    if (gray.width === width && gray.height === height) {
      dst.set(m);
      return { ...rest, mask: dst };
    }
    const src = cv.matFromArray(gray.height, gray.width, cv.CV_8UC1, m.map((v) => v * 255));
    const big = new cv.Mat();
    try {
      cv.resize(src, big, new cv.Size(width, height), 0, 0, cv.INTER_LINEAR);
      const d: Uint8Array = big.data;
      for (let i = 0; i < dst.length; i++) dst[i] = d[i] >= 128 ? 1 : 0;
    } finally {
      src.delete();
      big.delete();
    }
    return { ...rest, mask: dst };
  });
}

/**
 * Dense verification of every proposed transform: the accepted ones as source/copy pairs (working
 * frame) and a record of each, accepted or not, with the reason (original frame).
 */
function verifyTransforms(gray: GrayImage, transforms: CopyTransform[], scale: number, p: ClassicalParams): { pairs: VerifiedPair[]; candidates: CopyCandidate[] } {
  const pairs: VerifiedPair[] = [];
  const candidates: CopyCandidate[] = [];
  const minArea = p.minRegionFraction * gray.width * gray.height;
  if (!transforms.length) return { pairs, candidates };
  const windows = imageWindows(gray, p);
  /** Why a verified pair scoring below minEventScore passes the gate, if it does (events.ts EventGate). */
  const admission = (t: CopyTransform, v: VerifiedCopy, score: number, inlierFactor: number, drop: number | undefined): { admitted?: string; blurred?: number } => {
    if (score >= p.minEventScore) return {};
    const gate = t.peakedGate;
    if (gate && drop !== undefined && drop >= gate.drop) {
      // a sharp peak stands for the inliers a rescaled or turned copy's keypoints do not give
      const peakScore = gate.sharpDrop !== undefined && drop >= gate.sharpDrop ? Math.max(0, Math.min(1, v.meanZncc)) : score;
      if (peakScore >= gate.score) return { admitted: `peaked ${gate.kind} copy` };
    }
    if (p.minBlurredZncc <= 0) return {};
    // the forger blurred the original: in the working frame that blur is `scale` times as wide
    const blurred = blurredAgreement(gray, v.source, t.affine, p, COMPARED_BLUR_SIGMA * scale);
    return { admitted: blurred * inlierFactor >= p.minBlurredZncc ? 'blurred copy' : undefined, blurred };
  };
  // the early detail-peak test, verification and refinement, item by item, shared with the stage worker when it listens
  const detection = nextDetection();
  const context = { gray, p, minArea };
  const here = mapContext(context, windows);
  const early = transforms.filter((t) => t.peakFirst && p.minDetailDrop > 0);
  const peaks = shareMap(p.stageWorker, 'peak', detection, context, early, (t) => SHARED_MAPS.peak(here, t));
  const peaked = transforms.flatMap((proposed) => {
    if (!proposed.peakFirst || p.minDetailDrop <= 0) return [proposed];
    const { t, drop } = peaks[early.indexOf(proposed)];
    if (drop >= p.minDetailDrop) return [t];
    candidates.push({
      ...candidateOf(t, scale),
      meanZncc: 0,
      support: 0,
      detail: 0,
      area: 0,
      detailDrop: drop,
      accepted: false,
      reason: `detail correlation at the inlier blocks falls ${drop.toFixed(2)} < ${p.minDetailDrop} 2 px off the transform (structure along an axis); not verified`,
      rejectedFor: 'detail not peaked',
    });
    return [];
  });
  const first: { t: CopyTransform; v: VerifiedCopy; touching: boolean | undefined }[] = shareMap(p.stageWorker, 'verify', detection, context, peaked, (t) =>
    SHARED_MAPS.verify(here, t),
  );
  // A transform one of whose proposals touches its source is structure: another proposal of it (other
  // inlier seeds, or another stage's fit a pixel off) can grow a region off a symmetric object's centre
  // line, which refinement must not lift over the gate and which is no copy either, unless its blocks
  // are pixel-exact twins (a half-turned copy whose block-matched region grew over its source).
  const structure = first.filter((f) => f.touching).map(({ t }) => t.affine);
  const isStructure = (f: { t: CopyTransform }) => structure.some((a) => nearlySameAffine(a, f.t.affine));
  const toRefine = first.filter((f) => !isStructure(f)).map(({ t, v }) => ({ t, v }));
  const refined = shareMap(p.stageWorker, 'refine', detection, context, toRefine, (f) => SHARED_MAPS.refine(here, f));
  let k = 0;
  const verified = first.map((f) => {
    if (isStructure(f)) return f;
    const r = refined[k++];
    // a refined verification is measured for touching again, only if it gets that far
    return r === null ? f : { ...r, touching: undefined };
  });
  for (const { t, v, touching } of verified) {
    let rejection: [string, string] | undefined;
    const smaller = Math.min(v.sourceArea, v.targetArea);
    if (v.support < p.minSupport) rejection = ['ZNCC support too low', `ZNCC support ${v.support.toFixed(2)} < ${p.minSupport}`];
    else if (v.detail < Math.max(p.minDetail, t.minDetail ?? 0)) rejection = ['detail correlation too low', `detail correlation ${v.detail.toFixed(2)} < ${Math.max(p.minDetail, t.minDetail ?? 0)}`];
    else if (smaller < minArea) rejection = ['region too small', `region of ${smaller} px too small`];
    else if (touching ?? touches(v, t.affine, gray, p)) rejection = ['source and copy touch', 'source and copy touch (periodic or symmetric structure)'];
    else if (!t.pixelExact && movesLikeStructure(structure, t.affine, v.source, gray.width, p.minDistance / 2)) {
      rejection = ['source and copy touch', 'moves its region as a transform whose source and copy touch does (periodic or symmetric structure)'];
    }
    else if (p.suppressText && (isTextLike(gray, v.source) || isTextLike(gray, v.target))) rejection = ['text label', 'text label'];
    const drop = rejection || t.pixelExact || (p.minDetailDrop <= 0 && !t.peakedGate) ? undefined : detailDrop(gray, windows, v.source, t.affine);
    if (drop !== undefined && p.minDetailDrop > 0 && drop < p.minDetailDrop && !grainyTwin(gray, v, drop, p)) {
      rejection = ['detail not peaked', `detail correlation falls ${drop.toFixed(2)} < ${p.minDetailDrop} 2 px off the transform (structure along an axis)`];
    }
    const inlierFactor = Math.min(1, t.inliers / (2 * p.minInliers));
    const score = Math.max(0, Math.min(1, v.meanZncc)) * inlierFactor;
    const { admitted, blurred }: ReturnType<typeof admission> = rejection ? {} : admission(t, v, score, inlierFactor, drop);
    candidates.push({
      ...candidateOf(t, scale),
      meanZncc: v.meanZncc,
      support: v.support,
      detail: v.detail,
      area: smaller,
      detailDrop: drop,
      blurredZncc: blurred,
      accepted: !rejection,
      reason: rejection?.[1],
      rejectedFor: rejection?.[0],
    });
    if (rejection) continue;
    const { source, target } = p.copyRim ? growCopyRim(gray, v.source, v.target, t.affine, (p.znccWindow - 1) / 2) : v;
    pairs.push({ source, target, score, affine: t.affine, ...(admitted && { admitted }), ...(drop !== undefined && { peak: drop }) });
  }
  return { pairs, candidates };
}

/** What a candidate record says of its transform, in the original frame. */
function candidateOf(t: CopyTransform, scale: number): Pick<CopyCandidate, 'affine' | 'inliers' | 'cluster' | 'flipped' | 'stage'> {
  return { affine: toOriginal(t.affine, scale), inliers: t.inliers, cluster: t.cluster, flipped: t.flipped, stage: t.stage };
}

/** Below this shorter side, copied regions are often too small to carry enough keypoints. */
export const SMALL_IMAGE_SIDE = 256;

/** What the working size did, and a warning for figures too small for keypoints. */
function sizeNotes(image: Image, gray: GrayImage, scale: number, p: ClassicalParams): string[] {
  const size = `${image.width}x${image.height}`;
  const notes: string[] = [];
  if (Math.min(image.width, image.height) < SMALL_IMAGE_SIDE) {
    notes.push(
      `small image (${size}): copies in figures under ~${SMALL_IMAGE_SIDE} px are often too small for keypoints ` +
        `(minInliers ${p.minInliers} matches per copy); the detector is tuned on figures of 384 px and more (notebook 08)`,
    );
  }
  if (scale > 1) notes.push(`image ${size} smaller than minSide ${p.minSide}: upscaled to ${gray.width}x${gray.height} (x${scale.toFixed(2)})`);
  if (scale < 1) notes.push(`image ${size} larger than maxSide ${p.maxSide}: downscaled to ${gray.width}x${gray.height} (x${scale.toFixed(2)})`);
  return notes;
}

/** Why no transform was verified: none proposed (and why), or all rejected (most often for what). */
function nothingVerified(proposed: number, candidates: CopyCandidate[], rejectedFits: RejectedFit[], keypoints: number): string {
  if (proposed === 0) {
    const fits = rejectedFits.length ? `; ${rejectedFits.length} RANSAC fit(s) rejected, most often: ${mostCommon(rejectedFits.map((r) => r.reason.replace(/[\d.]+/g, '#')))}` : '';
    return `no copy transform proposed (${keypoints} keypoints${fits})`;
  }
  const kinds = candidates.map((c) => c.rejectedFor ?? 'rejected');
  return `no transform passed verification: ${candidates.length} rejected, most often for ${mostCommon(kinds)}`;
}

/** The most frequent string and its count, e.g. "text label (3)". */
function mostCommon(items: string[]): string {
  const counts = new Map<string, number>();
  for (const it of items) counts.set(it, (counts.get(it) ?? 0) + 1);
  const [best, n] = [...counts.entries()].sort((a, b) => b[1] - a[1])[0];
  return `${best} (${n})`;
}

/**
 * A copy whose detail peaks only a little (grainyMinDrop up to minDetailDrop) passes the peak test
 * when it agrees almost perfectly, in ZNCC and in fine detail (grainyMinAgreement), over a source
 * that carries grain (most neighbouring pixels differ: exactRegionMinGrain). Look-alike structure
 * along an axis (a rendered panel's frame, a stripe) agrees so well only where it is drawn without
 * grain; a photograph's copied grain does not repeat by chance, whatever the stripe it also holds.
 */
function grainyTwin(gray: GrayImage, v: VerifiedCopy, drop: number, p: ClassicalParams): boolean {
  if (p.grainyMinDrop <= 0 || drop < p.grainyMinDrop) return false;
  if (v.meanZncc < p.grainyMinAgreement || v.detail < p.grainyMinAgreement) return false;
  const { pairs, differ } = maskGrain(gray, v.source);
  return pairs > 0 && differ / pairs >= p.exactRegionMinGrain;
}
