import type { Rng } from '../../util/random';
import { ConfigError, didYouMean } from '../../errors';
import type { Canvas } from './canvas';
import { renderWesternBlot, renderWesternBlotLanes } from './blot';
import { renderGel, renderGelLanes } from './gel';
import { renderFluorescence } from './fluorescence';
import { renderSem } from './sem';
import { renderHistology } from './histology';
import { renderChart } from './chart';
import { renderCompound } from './compound';
import { FAMILIES, type Box, type FigureFamily as Family } from './manifest';

export type FamilyRenderer = (rng: Rng, width: number, height: number) => Canvas;

const RENDERERS: Record<Family, FamilyRenderer> = {
  western_blot: renderWesternBlot,
  gel: renderGel,
  fluorescence: renderFluorescence,
  sem: renderSem,
  histology: renderHistology,
  chart: renderChart,
  compound: (rng, w, h) => renderCompoundFigure(rng, w, h).canvas,
};

/** A compound figure and its panel boxes (for forgeries that reuse one panel in another). */
export function renderCompoundFigure(rng: Rng, width: number, height: number): { canvas: Canvas; panels: Box[] } {
  return renderCompound(rng, width, height, (r, family, pw, ph) => RENDERERS[family](r, pw, ph));
}

/** A figure with its layout: compound figures' panel boxes, blots' and gels' lane boxes (empty otherwise). */
export interface FigureLayout {
  canvas: Canvas;
  panels: Box[];
  lanes: Box[];
}

/** Paint a figure of `family` and say where its panels and lanes are. */
export function renderFamilyLayout(rng: Rng, family: Family, width: number, height: number): FigureLayout {
  if (family === 'compound') return { ...renderCompoundFigure(rng, width, height), lanes: [] };
  if (family === 'western_blot') return { ...renderWesternBlotLanes(rng, width, height), panels: [] };
  if (family === 'gel') return { ...renderGelLanes(rng, width, height), panels: [] };
  return { canvas: renderFamily(rng, family, width, height), panels: [], lanes: [] };
}

/** Relative frequency of each family in a generated dataset (microscopy and blots dominate real data). */
export const FAMILY_WEIGHTS: Record<Family, number> = {
  western_blot: 0.18,
  gel: 0.1,
  fluorescence: 0.2,
  sem: 0.12,
  histology: 0.12,
  chart: 0.1,
  compound: 0.18,
};

/** Paint a figure of `family`; throws ConfigError for an unknown family name. */
export function renderFamily(rng: Rng, family: Family, width: number, height: number): Canvas {
  const render = RENDERERS[family];
  if (!render) throw new ConfigError(`unknown figure family '${family}'; ${didYouMean(family, FAMILIES)}`);
  return render(rng, width, height);
}

/** Draw a family name among `allowed` with probability proportional to `FAMILY_WEIGHTS`. */
export function pickFamily(rng: Rng, allowed: readonly Family[] = FAMILIES): Family {
  const total = allowed.reduce((s, f) => s + FAMILY_WEIGHTS[f], 0);
  let u = rng.uniform(0, total);
  for (const f of allowed) {
    u -= FAMILY_WEIGHTS[f];
    if (u < 0) return f;
  }
  return allowed[allowed.length - 1];
}
