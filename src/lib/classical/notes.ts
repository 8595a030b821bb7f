/**
 * Why a detection came back empty, in words: the classical detector's result carries `notes`
 * (image size against what the detector needs, how far each stage got, why fits were rejected),
 * so an empty result tells the user something.
 */
import type { Image } from '../data/types';
import { detectWith, type CopyMoveDetection } from './detect';
import { loadOpenCv } from './opencv';
import { type ClassicalParams, resolveParams } from './params';

/** Below this shorter side, copied regions are often too small to carry enough keypoints. */
export const SMALL_IMAGE_SIDE = 256;

export type NotedDetection = CopyMoveDetection & { notes: string[] };

/** Notes on one detection; empty when regions were found and nothing looks off. */
export function detectionNotes(image: Image, detection: CopyMoveDetection, params: Partial<ClassicalParams> = {}): string[] {
  const p = resolveParams(params);
  const notes: string[] = [];
  const side = Math.min(image.width, image.height);
  const { debug } = detection;
  const found = detection.instances.count;
  if (side < SMALL_IMAGE_SIDE) {
    notes.push(
      `small image (${image.width}x${image.height}): copies in figures under ~${SMALL_IMAGE_SIDE} px are often too small for ` +
        `keypoints (minInliers ${p.minInliers} matches per copy); it was worked on at ${debug.scale.toFixed(2)}x. ` +
        'The classical detector is tuned on figures of 384 px and more (notebook 08).',
    );
  }
  if (found > 0) return notes;
  const kp = debug.keypoints.x.length;
  const matches = debug.matches.ax.length;
  const clusters = debug.clusters.length;
  const fitted = debug.candidates.length;
  const stage =
    kp === 0
      ? 'no keypoints (flat or very small image)'
      : matches === 0
        ? `${kp} keypoints but no self-matches (nothing repeats closely enough)`
        : clusters === 0
          ? `${matches} matches, but no group of ${p.minInliers} or more (minInliers) that moves together`
          : fitted === 0
            ? `${clusters} match group(s), no copy transform fitted${debug.rejectedFits.length ? ` (${summarise(debug.rejectedFits.map((r) => r.reason))})` : ''}`
            : `${fitted} copy transform(s) fitted, all rejected by verification (${summarise(debug.candidates.map((c) => c.reason ?? 'rejected'))})`;
  notes.push(`no copy-move found: ${stage}.`);
  return notes;
}

function summarise(reasons: readonly string[]): string {
  const counts = new Map<string, number>();
  for (const r of reasons) {
    const key = r.replace(/[\d.]+/g, '#');
    counts.set(key, (counts.get(key) ?? 0) + 1);
  }
  const first = new Map<string, string>();
  for (const r of reasons) if (!first.has(r.replace(/[\d.]+/g, '#'))) first.set(r.replace(/[\d.]+/g, '#'), r);
  return [...counts].map(([k, n]) => `${n}x ${first.get(k)}`).join('; ');
}

/** detectCopyMove with `notes`: the instances, scores, debug detail and what to make of an empty result. */
export async function detectCopyMove(image: Image, params: Partial<ClassicalParams> = {}): Promise<NotedDetection> {
  const p = resolveParams(params);
  const cv = await loadOpenCv();
  const detection = detectWith(cv, image, p);
  return { ...detection, notes: detectionNotes(image, detection, p) };
}
