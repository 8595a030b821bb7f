import type { Rng } from '../../util/random';
import { Canvas, fractalNoise, type Color } from './canvas';

/** Outline of a cell: a circle whose radius wobbles with a few random harmonics. */
export interface Wobble {
  amps: number[];
  phases: number[];
}

export function randomWobble(rng: Rng, irregularity: number): Wobble {
  const amps: number[] = [];
  const phases: number[] = [];
  for (let k = 2; k <= 5; k++) {
    amps.push(rng.uniform(0, irregularity) / (k - 1));
    phases.push(rng.uniform(0, 2 * Math.PI));
  }
  return { amps, phases };
}

/**
 * An irregular soft-edged body (nucleus, cytoplasm) of radii (rx, ry) with a wobbly outline and
 * an interior modulated by `texture` (a [0, 1] field the size of the canvas).
 */
export function drawCell(
  c: Canvas,
  cx: number,
  cy: number,
  rx: number,
  ry: number,
  angle: number,
  wobble: Wobble,
  color: Color,
  strength: number,
  texture: Float32Array | null,
  mode: 'over' | 'add',
): void {
  const harmonics = wobble.amps.length;
  const ca = wobble.phases.map((p, k) => wobble.amps[k] * Math.cos(p));
  const sa = wobble.phases.map((p, k) => wobble.amps[k] * Math.sin(p));
  const maxR = Math.max(rx, ry) * 1.1 * (1 + wobble.amps.reduce((s, a) => s + a, 0));
  const x0 = Math.max(0, Math.floor(cx - maxR));
  const x1 = Math.min(c.width - 1, Math.ceil(cx + maxR));
  const y0 = Math.max(0, Math.floor(cy - maxR));
  const y1 = Math.min(c.height - 1, Math.ceil(cy + maxR));
  const cos = Math.cos(angle);
  const sin = Math.sin(angle);
  for (let y = y0; y <= y1; y++) {
    for (let x = x0; x <= x1; x++) {
      const dx = x + 0.5 - cx;
      const dy = y + 0.5 - cy;
      const u = (dx * cos + dy * sin) / rx;
      const v = (-dx * sin + dy * cos) / ry;
      const rho = Math.sqrt(u * u + v * v);
      // cos/sin of k*theta by the angle-addition recurrence (no atan2/cos per pixel).
      const c1 = rho > 0 ? u / rho : 1;
      const s1 = rho > 0 ? v / rho : 0;
      let ck = c1 * c1 - s1 * s1;
      let sk = 2 * c1 * s1;
      let r = 1;
      for (let k = 0; k < harmonics; k++) {
        // amp * cos(k theta + phase) = ck * amp cos(phase) - sk * amp sin(phase)
        r += ck * ca[k] - sk * sa[k];
        const cn = ck * c1 - sk * s1;
        sk = sk * c1 + ck * s1;
        ck = cn;
      }
      const d = rho / r;
      if (d >= 1.1 || r <= 0) continue;
      const edge = d < 0.8 ? 1 : 1 - (d - 0.8) / 0.3;
      const tex = texture ? 0.55 + 0.45 * texture[y * c.width + x] : 1;
      const a = strength * edge * tex;
      if (mode === 'add') c.add(x, y, color, a);
      else c.blend(x, y, color, a);
    }
  }
}

const NUCLEUS: Color = [0.25, 0.45, 1];
const CYTO: Color = [0.15, 1, 0.25];
const PUNCTA: Color = [1, 0.15, 0.1];
const SINGLE: Color[] = [
  [1, 1, 1],
  [0.2, 1, 0.3],
  [1, 0.2, 0.15],
  [0.3, 0.5, 1],
];

/**
 * Fluorescence micrograph: dark field with 1-3 channels - nuclei (blue), cytoplasm (green),
 * puncta (red) - or a single-channel image in one pseudo-colour. Blur for optics, noise for
 * the camera, sometimes a scale bar.
 */
export function renderFluorescence(rng: Rng, width: number, height: number): Canvas {
  const c = new Canvas(width, height).fill([0.01, 0.01, 0.015]);
  const channels = rng.int(1, 3);
  const single = channels === 1 ? rng.pick(SINGLE) : null;
  const texture = fractalNoise(rng, width, height, Math.max(2, Math.min(width, height) / 40), 3);
  const radius = Math.min(width, height) * rng.uniform(0.025, 0.07);
  const count = Math.min(400, Math.max(3, Math.round((width * height) / (radius * radius * rng.uniform(8, 30)))));
  for (let i = 0; i < count; i++) {
    const cx = rng.uniform(0, width);
    const cy = rng.uniform(0, height);
    const r = radius * rng.uniform(0.7, 1.3);
    const aspect = rng.uniform(0.65, 1);
    const angle = rng.uniform(0, Math.PI);
    if (channels >= 2 || (single && rng.bool(0.3))) {
      const cytoR = r * rng.uniform(1.8, 3);
      drawCell(c, cx + rng.normal(0, r * 0.3), cy + rng.normal(0, r * 0.3), cytoR, cytoR * rng.uniform(0.5, 1), rng.uniform(0, Math.PI), randomWobble(rng, 0.35), single ?? CYTO, rng.uniform(0.15, 0.45), texture, 'add');
    }
    drawCell(c, cx, cy, r, r * aspect, angle, randomWobble(rng, 0.12), single ?? NUCLEUS, rng.uniform(0.45, 0.95), texture, 'add');
    if (channels === 3) {
      const spots = rng.int(0, 6);
      for (let s = 0; s < spots; s++) {
        c.blob(cx + rng.normal(0, r * 1.5), cy + rng.normal(0, r * 1.5), r * 0.18, r * 0.18, 0, PUNCTA, rng.uniform(0.4, 1), 3, 'add');
      }
    }
  }
  c.blur(Math.max(0.5, radius / 12));
  c.noise(rng, rng.uniform(0.005, 0.025), channels === 1);
  if (rng.bool(0.5) && width >= 128) {
    const barW = Math.round(width * rng.uniform(0.1, 0.2));
    const barH = Math.max(2, Math.round(height * 0.012));
    const m = Math.round(Math.min(width, height) * 0.04);
    c.rect(width - m - barW, height - m - barH, width - m, height - m, [1, 1, 1]);
  }
  return c;
}
