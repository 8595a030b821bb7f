import type { Rng } from '../../util/random';
import { Canvas, grey } from './canvas';
import { drawBand, laneColumns, membraneBackground } from './blot';
import type { Box } from './manifest';

/**
 * Agarose/SDS-PAGE gel: wells along the top, a ladder lane with many log-spaced bands, sample
 * lanes with a few bands and occasional smears. Glowing bands on dark (stained gel photo) or,
 * one time in three, the inverted dark-on-light look.
 */
export function renderGel(rng: Rng, width: number, height: number): Canvas {
  return renderGelLanes(rng, width, height).canvas;
}

/** A gel and the box of every lane (wells to bottom edge; for lane-reuse forgeries). */
export function renderGelLanes(rng: Rng, width: number, height: number): { canvas: Canvas; lanes: Box[] } {
  const c = new Canvas(width, height);
  membraneBackground(rng, c, rng.uniform(0.04, 0.14), rng.uniform(0.02, 0.08));
  const lanes = rng.int(4, 16);
  const margin = width * rng.uniform(0.02, 0.08);
  const laneW = (width - 2 * margin) / lanes;
  const wellY = height * rng.uniform(0.04, 0.1);
  const wellH = Math.max(2, height * 0.025);
  const bandH = Math.max(1, height * rng.uniform(0.008, 0.02));
  const glow = grey(1);
  const ladderLanes = new Set<number>([0]);
  if (rng.bool(0.4)) ladderLanes.add(lanes - 1);
  const rungs = rng.int(6, 12);
  const spread = rng.uniform(0.7, 1.1);
  const ladder: number[] = [];
  for (let i = 0; i < rungs; i++) ladder.push(wellY + wellH * 2 + (height - wellY - wellH * 3) * Math.pow((i + 0.5) / rungs, spread));
  for (let l = 0; l < lanes; l++) {
    const cx = margin + (l + 0.5) * laneW;
    c.rect(cx - laneW * 0.38, wellY, cx + laneW * 0.38, wellY + wellH, grey(0.3), 0.35);
    if (ladderLanes.has(l)) {
      for (const y of ladder) drawBand(c, cx, y, laneW * 0.36, bandH, rng.uniform(0.35, 0.8), 0.2, 0, glow, 'add');
      continue;
    }
    const smear = rng.bool(0.2);
    if (smear) drawBand(c, cx, wellY + wellH * 3, laneW * 0.36, bandH, 0.25, 0, height * 0.15, glow, 'add');
    const bands = rng.int(0, 4);
    for (let b = 0; b < bands; b++) {
      const y = rng.pick(ladder) + rng.normal(0, height * 0.03);
      drawBand(c, cx, y, laneW * 0.36, bandH * rng.uniform(0.8, 1.6), rng.uniform(0.2, 0.95), rng.uniform(-0.3, 0.5), 0, glow, 'add');
    }
  }
  c.blur(rng.uniform(0.5, 1.6), true);
  c.noise(rng, rng.uniform(0.005, 0.03));
  if (rng.bool(1 / 3)) {
    const d = c.data;
    for (let i = 0; i < d.length; i++) d[i] = 1 - d[i];
  }
  return { canvas: c, lanes: laneColumns(margin, laneW, lanes, 0, height) };
}
