import type { Masks } from '../data/types';
import { ModelError } from '../errors';
import type { Rng } from '../util/random';

/**
 * Token labels for the contrastive losses: one label per patch of an h x w token grid, from a
 * sample's event masks (N,H,W) at input size, by area vote inside the patch: 0 = authentic (the
 * pixels in no event), k = event k (1-based). The label with the most pixels wins; a tie goes to
 * the lower label, so a patch half authentic stays authentic (it is not a confident positive).
 */
export function tokenLabels(masks: Masks, h: number, w: number): Int32Array {
  const { height: H, width: W, count, data } = masks;
  if (H < h || W < w) throw new ModelError(`event masks ${H}x${W} are smaller than the token grid ${h}x${w}`);
  const ph = Math.floor(H / h);
  const pw = Math.floor(W / w);
  const n = H * W;
  const votes = new Float64Array(h * w * (count + 1));
  for (let y = 0; y < h * ph; y++) {
    for (let x = 0; x < w * pw; x++) {
      const t = Math.floor(y / ph) * w + Math.floor(x / pw);
      const p = y * W + x;
      let any = false;
      for (let k = 0; k < count; k++) {
        if (data[k * n + p]) {
          votes[t * (count + 1) + k + 1] += 1;
          any = true;
        }
      }
      if (!any) votes[t * (count + 1)] += 1;
    }
  }
  const labels = new Int32Array(h * w);
  for (let t = 0; t < h * w; t++) {
    let best = 0;
    for (let k = 1; k <= count; k++) if (votes[t * (count + 1) + k] > votes[t * (count + 1) + best]) best = k;
    labels[t] = best;
  }
  return labels;
}

/**
 * At most `max` token indices, seeded: forged tokens first (up to half the budget, so a small
 * forgery is not drowned by background), authentic tokens fill the rest. Sorted ascending. This is
 * what keeps the losses' n x n similarity matrices bounded whatever the input size.
 */
export function sampleTokens(labels: Int32Array, max: number, rng: Rng): Int32Array {
  if (!(max >= 2)) throw new ModelError(`token sample size must be at least 2, got ${max}`);
  if (labels.length <= max) return Int32Array.from(labels.keys());
  const forged: number[] = [];
  const authentic: number[] = [];
  labels.forEach((l, i) => (l > 0 ? forged : authentic).push(i));
  rng.shuffle(forged);
  rng.shuffle(authentic);
  const nf = Math.min(forged.length, Math.max(Math.floor(max / 2), max - authentic.length));
  const picked = [...forged.slice(0, nf), ...authentic.slice(0, max - nf)];
  return Int32Array.from(picked.sort((a, b) => a - b));
}

/** Class membership as matrices: `onehot` [K,n] rows per class present (ascending label), `classes` the labels. */
export function classMatrix(labels: Int32Array): { onehot: Float32Array; classes: number[]; counts: number[] } {
  const classes = [...new Set(labels)].sort((a, b) => a - b);
  const n = labels.length;
  const onehot = new Float32Array(classes.length * n);
  const counts = classes.map(() => 0);
  labels.forEach((l, i) => {
    const k = classes.indexOf(l);
    onehot[k * n + i] = 1;
    counts[k] += 1;
  });
  return { onehot, classes, counts };
}
