import { MetricError } from '../errors';
import type { Masks } from '../data/types';

/**
 * Kaggle run-length encoding (the competition's own metric code): pixels numbered in column-major
 * (Fortran) order, run starts 1-indexed, one instance = a JSON list `[start, length, ...]`,
 * instances joined by `;`, the literal `authentic` when an image has none.
 */
export const AUTHENTIC = 'authentic';

/** Runs [start1, len1, start2, len2, ...] of one (H,W) row-major 0/1 mask, column-major, 1-indexed. */
export function encodeRle(mask: Uint8Array, height: number, width: number): number[] {
  if (mask.length !== height * width) {
    throw new MetricError(`mask has ${mask.length} pixels, expected ${height}x${width}`);
  }
  const runs: number[] = [];
  let runStart = -1;
  let p = 0; // column-major pixel index
  for (let x = 0; x < width; x++) {
    for (let y = 0; y < height; y++, p++) {
      const on = mask[y * width + x] !== 0;
      if (on && runStart < 0) runStart = p;
      else if (!on && runStart >= 0) {
        runs.push(runStart + 1, p - runStart);
        runStart = -1;
      }
    }
  }
  if (runStart >= 0) runs.push(runStart + 1, p - runStart);
  return runs;
}

/** JSON text of one instance's runs, in the exact spelling Python's json.dumps gives: `[1, 3, 10, 2]`. */
export function formatRuns(runs: readonly number[]): string {
  return `[${runs.join(', ')}]`;
}

/**
 * The annotation of one image: its non-empty instances, `;`-joined, or `authentic` when there are
 * none (an empty instance carries no pixels, so it is dropped rather than written as `[]`).
 */
export function encodeAnnotation(masks: Masks): string {
  const n = masks.height * masks.width;
  const parts: string[] = [];
  for (let i = 0; i < masks.count; i++) {
    const runs = encodeRle(masks.data.subarray(i * n, (i + 1) * n), masks.height, masks.width);
    if (runs.length > 0) parts.push(formatRuns(runs));
  }
  return parts.length ? parts.join(';') : AUTHENTIC;
}

/**
 * Parse and validate one instance's runs. Rejects what the Kaggle metric rejects (odd count,
 * non-ascending starts, overlapping runs) and, more strictly, starts below 1, negative lengths and
 * runs past the last pixel (Python slicing would silently clip those). `where` names the source.
 */
export function parseRuns(text: string | readonly number[], where = 'RLE'): number[] {
  let values: unknown;
  if (typeof text === 'string') {
    try {
      values = JSON.parse(text);
    } catch {
      throw new MetricError(`not a JSON list of integers: '${clip(text)}'`, where);
    }
  } else {
    values = text;
  }
  if (!Array.isArray(values) || !values.every((v) => typeof v === 'number' && Number.isInteger(v))) {
    throw new MetricError(`not a JSON list of integers: '${clip(String(text))}'`, where);
  }
  const runs = values as number[];
  if (runs.length % 2 !== 0) throw new MetricError(`odd number of values (${runs.length}); expected start/length pairs`, where);
  for (let i = 0; i < runs.length; i += 2) {
    const start = runs[i];
    const length = runs[i + 1];
    if (start < 1) throw new MetricError(`run start ${start} is below 1 (starts are 1-indexed)`, where);
    if (length < 0) throw new MetricError(`run length ${length} is negative`, where);
    if (i > 0) {
      const prevStart = runs[i - 2];
      if (start < prevStart) throw new MetricError(`run starts must be in ascending order (${prevStart} then ${start})`, where);
      if (prevStart + runs[i - 1] > start) {
        throw new MetricError(`runs overlap: [${prevStart}, ${runs[i - 1]}] reaches past start ${start}`, where);
      }
    }
  }
  return runs;
}

/** Decode runs into an (H,W) row-major 0/1 mask. */
export function decodeRle(rle: string | readonly number[], height: number, width: number, where = 'RLE'): Uint8Array {
  const runs = parseRuns(rle, where);
  const total = height * width;
  const out = new Uint8Array(total);
  for (let i = 0; i < runs.length; i += 2) {
    const first = runs[i] - 1;
    const end = first + runs[i + 1];
    if (end > total) {
      throw new MetricError(`run [${runs[i]}, ${runs[i + 1]}] ends at pixel ${end}, past the ${height}x${width} image (${total} pixels)`, where);
    }
    for (let p = first; p < end; p++) {
      // column-major index p -> (y = p mod H, x = p div H)
      out[(p % height) * width + Math.floor(p / height)] = 1;
    }
  }
  return out;
}

/** Split an annotation into per-instance RLE strings; [] for `authentic`. */
export function splitAnnotation(annotation: string): string[] {
  const a = annotation.trim();
  if (a === AUTHENTIC) return [];
  return a.split(';').map((s) => s.trim());
}

/** Decode a whole annotation into (N,H,W) masks (N = 0 for `authentic`). */
export function decodeAnnotation(annotation: string, height: number, width: number, where = 'annotation'): Masks {
  const parts = splitAnnotation(annotation);
  const n = height * width;
  const data = new Uint8Array(parts.length * n);
  parts.forEach((part, i) => data.set(decodeRle(part, height, width, `${where} instance ${i + 1}`), i * n));
  return { data, count: parts.length, height, width };
}

/**
 * Number of pixels in the union of an annotation's instances, without knowing the image shape
 * (a union is the same in any pixel order). Used when the truth gives no shape (authentic rows).
 */
export function annotationUnionArea(annotation: string, where = 'annotation'): number {
  const intervals: Array<[number, number]> = [];
  splitAnnotation(annotation).forEach((part, k) => {
    const runs = parseRuns(part, `${where} instance ${k + 1}`);
    for (let i = 0; i < runs.length; i += 2) if (runs[i + 1] > 0) intervals.push([runs[i], runs[i] + runs[i + 1]]);
  });
  intervals.sort((a, b) => a[0] - b[0]);
  let area = 0;
  let curEnd = -Infinity;
  for (const [s, e] of intervals) {
    if (s >= curEnd) {
      area += e - s;
      curEnd = e;
    } else if (e > curEnd) {
      area += e - curEnd;
      curEnd = e;
    }
  }
  return area;
}

function clip(s: string): string {
  return s.length > 60 ? `${s.slice(0, 57)}...` : s;
}
