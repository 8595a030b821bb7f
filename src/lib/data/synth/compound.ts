import type { Rng } from '../../util/random';
import { Canvas, grey, WHITE } from './canvas';
import { textSize } from './font';
import type { Box, FigureFamily as Family } from './manifest';

export type PanelRenderer = (rng: Rng, family: Family, width: number, height: number) => Canvas;

const LAYOUTS: Array<[number, number]> = [
  [1, 2],
  [1, 3],
  [2, 2],
  [2, 3],
  [3, 2],
  [3, 3],
  [2, 1],
];
const PANEL_FAMILIES: Family[] = ['western_blot', 'gel', 'fluorescence', 'sem', 'histology', 'chart'];

/**
 * Multi-panel figure: a grid of panels (often several of one family, as in a figure comparing
 * conditions) separated by white gutters, with optional black borders and bold letter labels.
 */
export function renderCompound(rng: Rng, width: number, height: number, renderPanel: PanelRenderer): { canvas: Canvas; panels: Box[] } {
  const c = new Canvas(width, height).fill(WHITE);
  const panels: Box[] = [];
  let [rows, cols] = rng.pick(LAYOUTS);
  while (rows > 1 && height / rows < 48) rows--;
  while (cols > 1 && width / cols < 48) cols--;
  const scale = Math.max(1, Math.round(Math.min(width / cols, height / rows) / 90));
  const labelH = textSize('A', scale).height;
  const labelOutside = rng.bool(0.4);
  const gutter = Math.max(2, Math.round(Math.min(width, height) * rng.uniform(0.01, 0.03)));
  const topPad = labelOutside ? labelH + 2 * scale : 0;
  const cellW = (width - gutter * (cols + 1)) / cols;
  const cellH = (height - gutter * (rows + 1)) / rows;
  const panelW = Math.floor(cellW);
  const panelH = Math.floor(cellH - topPad);
  if (panelW < 8 || panelH < 8) return { canvas: c, panels };
  const sameFamily = rng.bool(0.6) ? rng.pick(PANEL_FAMILIES) : null;
  const border = rng.bool(0.5);
  const lower = rng.bool(0.3);
  let index = 0;
  for (let r = 0; r < rows; r++) {
    for (let k = 0; k < cols; k++) {
      const x = Math.round(gutter + k * (cellW + gutter));
      const y = Math.round(gutter + r * (cellH + gutter));
      const family = sameFamily ?? rng.pick(PANEL_FAMILIES);
      const panel = renderPanel(rng.fork(index), family, panelW, panelH);
      c.draw(panel, x, y + topPad);
      panels.push({ x, y: y + topPad, w: panelW, h: panelH });
      if (border) c.strokeRect(x, y + topPad, x + panelW, y + topPad + panelH, grey(0), Math.max(1, Math.round(scale / 2)));
      const letter = String.fromCharCode((lower ? 97 : 65) + index);
      const lw = textSize(letter, scale).width;
      if (labelOutside) {
        c.text(letter, x, y, scale, grey(0));
      } else {
        const dark = family === 'fluorescence' || family === 'sem' || family === 'gel';
        c.rect(x + scale, y + scale, x + lw + 3 * scale, y + labelH + 3 * scale, dark ? grey(0) : WHITE, 0.6);
        c.text(letter, x + 2 * scale, y + 2 * scale, scale, dark ? WHITE : grey(0));
      }
      index++;
    }
  }
  return { canvas: c, panels };
}
