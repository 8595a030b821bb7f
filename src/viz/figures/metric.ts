import type { PlotlyFigure } from '../display';
import type { Masks } from '../../lib/data/types';
import type { CascadeResult } from '../../lib/models/dinov2/cascade';
import { upsampleNearest } from '../../lib/models/dinov2/grow';
import { pca } from '../../lib/util/pca';

/**
 * Figures of notebook 05 (dinov2-metric): the loss terms per step, a 2-D PCA of one image's token
 * embeddings coloured by truth, and the cascade's stages as token masks to overlay on the image.
 */
export interface TermStep {
  step: number;
  loss: number;
  supcon: number;
  uniformity: number;
  separation: number;
}

/** One line per loss term (unweighted) and the weighted total, against the optimizer step. */
export function lossTermsFigure(steps: readonly TermStep[], title = 'loss terms'): PlotlyFigure {
  const x = steps.map((s) => s.step);
  const line = (name: string, y: number[], dash?: string) => ({ type: 'scatter', mode: 'lines', name, x, y, line: { width: 1.5, ...(dash ? { dash } : {}) } });
  return {
    data: [
      line('total (weighted)', steps.map((s) => s.loss)),
      line('PixelSupCon', steps.map((s) => s.supcon), 'dot'),
      line('uniformity', steps.map((s) => s.uniformity), 'dot'),
      line('separation', steps.map((s) => s.separation), 'dot'),
    ],
    layout: { title: { text: title }, xaxis: { title: { text: 'optimizer step' } }, yaxis: { title: { text: 'loss' } }, legend: { orientation: 'h', y: -0.2 }, height: 360, margin: { t: 40 } },
  };
}

/** PCA of n token embeddings (n x d) to 2-D, one trace per label (0 = authentic, k = event k). */
export function embeddingPcaFigure(emb: ArrayLike<number>, n: number, d: number, labels: Int32Array, title = 'token embeddings (PCA)'): PlotlyFigure {
  const { coords, variance } = pca(emb, n, d, 2);
  const share = (v: number) => `${((100 * v) / Math.max(1e-12, variance[0] + variance[1])).toFixed(0)}% of the two`;
  const data = [...new Set(labels)].sort((a, b) => a - b).map((l) => {
    const idx = [...labels.keys()].filter((i) => labels[i] === l);
    return {
      type: 'scatter',
      mode: 'markers',
      name: l === 0 ? 'authentic' : `event ${l}`,
      x: idx.map((i) => coords[i * 2]),
      y: idx.map((i) => coords[i * 2 + 1]),
      marker: { size: l === 0 ? 4 : 7, opacity: l === 0 ? 0.5 : 0.9 },
    };
  });
  return { data, layout: { title: { text: title }, xaxis: { title: { text: `PC 1 (${share(variance[0])})` } }, yaxis: { title: { text: `PC 2 (${share(variance[1])})` } }, height: 420, margin: { t: 40 } } };
}

/** Token maps (h x w, 0/1) as one Masks of `height` x `width` (nearest), one channel per map. */
export function tokenMasks(maps: readonly ArrayLike<number>[], h: number, w: number, height: number, width: number): Masks {
  const n = height * width;
  const data = new Uint8Array(maps.length * n);
  maps.forEach((m, k) => upsampleNearest(m, h, w, height, width).forEach((v, p) => (data[k * n + p] = v >= 0.5 ? 1 : 0)));
  return { data, count: maps.length, height, width };
}

/** The cascade's stages on one image as masks to overlay: clusters, suspicious tokens, event cores, grown tokens. */
export function cascadeStageMasks(r: CascadeResult, height: number, width: number): { caption: string; masks: Masks }[] {
  const { h, w, clustering } = r;
  const clusters = Array.from({ length: clustering.clusters }, (_, k) => Array.from(clustering.labels, (l) => (l === k ? 1 : 0)));
  const stages = [
    { caption: `1. HDBSCAN: ${clustering.clusters} cluster(s), background = cluster ${r.background}`, masks: tokenMasks(clusters, h, w, height, width) },
    {
      caption: r.suspicion ? `2. suspicion ${r.suspicion.score.toFixed(2)}: outlying tokens` : '2. suspicion: skipped (stage 1 found events)',
      masks: tokenMasks(r.suspicion ? [r.suspicion.outliers] : [], h, w, height, width),
    },
    { caption: `event cores (${r.events.length})`, masks: tokenMasks(r.events.map((e) => e.core), h, w, height, width) },
    { caption: '3. grown on the token grid', masks: tokenMasks(r.events.map((e) => e.grown), h, w, height, width) },
  ];
  return stages;
}
