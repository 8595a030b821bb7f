import type { Rng } from '../../util/random';
import { iou } from './boxes';

/**
 * torchvision's `Matcher` and `BalancedPositiveNegativeSampler`, on plain arrays.
 * Match values: >= 0 the matched ground-truth index, BELOW_LOW (background), BETWEEN (ignored).
 */
export const BELOW_LOW = -1;
export const BETWEEN = -2;

export interface MatcherConfig {
  high: number;
  low: number;
  /** Keep, for each ground truth, the candidates it overlaps most even below `high` (the RPN's). */
  allowLowQuality: boolean;
}

/** For each of the N `boxes`: the index of its best ground truth among `gt`, or BELOW_LOW / BETWEEN. */
export function matchBoxes(gt: Float32Array, boxes: Float32Array, cfg: MatcherConfig): Int32Array {
  const m = gt.length / 4;
  const n = boxes.length / 4;
  const matches = new Int32Array(n).fill(BELOW_LOW);
  if (m === 0) return matches;
  const best = new Float32Array(n).fill(-1);
  const all = new Int32Array(n);
  const q = new Float32Array(m * n);
  for (let g = 0; g < m; g++) {
    for (let i = 0; i < n; i++) {
      const v = iou(gt, g, boxes, i);
      q[g * n + i] = v;
      // first ground truth wins ties, as torch.max over dim 0
      if (v > best[i]) (best[i] = v), (all[i] = g);
    }
  }
  for (let i = 0; i < n; i++) matches[i] = best[i] < cfg.low ? BELOW_LOW : best[i] < cfg.high ? BETWEEN : all[i];
  if (cfg.allowLowQuality) {
    for (let g = 0; g < m; g++) {
      let top = 0;
      for (let i = 0; i < n; i++) top = Math.max(top, q[g * n + i]);
      // every candidate reaching that ground truth's best quality gets its own best match back
      for (let i = 0; i < n; i++) if (q[g * n + i] === top) matches[i] = all[i];
    }
  }
  return matches;
}

/** `count` distinct items of `pool`, drawn at random (torch.randperm(numel)[:count]). */
function draw(pool: number[], count: number, rng: Rng): number[] {
  const a = pool.slice();
  for (let i = 0; i < count; i++) {
    const j = i + Math.floor(rng.next() * (a.length - i));
    [a[i], a[j]] = [a[j], a[i]];
  }
  return a.slice(0, count);
}

/**
 * Balanced sampling of labels (>= 1 positive, 0 negative, -1 ignored): up to batch * fraction
 * positives, negatives filling the rest. Returns the sampled indices, ascending (torch.where order).
 */
export function sampleBalanced(labels: ArrayLike<number>, batch: number, fraction: number, rng: Rng): { positive: number[]; negative: number[]; all: number[] } {
  const pos: number[] = [];
  const neg: number[] = [];
  for (let i = 0; i < labels.length; i++) {
    if (labels[i] >= 1) pos.push(i);
    else if (labels[i] === 0) neg.push(i);
  }
  const nPos = Math.min(Math.floor(batch * fraction), pos.length);
  const nNeg = Math.min(batch - nPos, neg.length);
  const positive = draw(pos, nPos, rng).sort((x, y) => x - y);
  const negative = draw(neg, nNeg, rng).sort((x, y) => x - y);
  return { positive, negative, all: [...positive, ...negative].sort((x, y) => x - y) };
}
