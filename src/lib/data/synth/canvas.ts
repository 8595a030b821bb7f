import type { Image } from '../types';
import type { Rng } from '../../util/random';
import { glyph, GLYPH_ADVANCE, GLYPH_HEIGHT, GLYPH_WIDTH } from './font';

/** RGB colour, each component in [0, 1]. */
export type Color = readonly [number, number, number];

export const WHITE: Color = [1, 1, 1];

export function grey(v: number): Color {
  return [v, v, v];
}

/**
 * A float RGB drawing surface (HWC, values in [0, 1]) that the figure families paint on; it is
 * quantised to uint8 once at the end, so blending and noise do not accumulate rounding.
 */
export class Canvas {
  readonly data: Float32Array;

  constructor(
    readonly width: number,
    readonly height: number,
  ) {
    this.data = new Float32Array(width * height * 3);
  }

  fill(c: Color): this {
    const d = this.data;
    for (let i = 0; i < d.length; i += 3) {
      d[i] = c[0];
      d[i + 1] = c[1];
      d[i + 2] = c[2];
    }
    return this;
  }

  /** Blend `c` over pixel (x, y) with opacity `a`; out-of-bounds pixels are ignored. */
  blend(x: number, y: number, c: Color, a: number): void {
    if (x < 0 || y < 0 || x >= this.width || y >= this.height || a <= 0) return;
    const i = (y * this.width + x) * 3;
    const d = this.data;
    const b = 1 - a;
    d[i] = d[i] * b + c[0] * a;
    d[i + 1] = d[i + 1] * b + c[1] * a;
    d[i + 2] = d[i + 2] * b + c[2] * a;
  }

  /** Add `c * a` to pixel (x, y) (light emission, as in fluorescence). */
  add(x: number, y: number, c: Color, a: number): void {
    if (x < 0 || y < 0 || x >= this.width || y >= this.height) return;
    const i = (y * this.width + x) * 3;
    const d = this.data;
    d[i] += c[0] * a;
    d[i + 1] += c[1] * a;
    d[i + 2] += c[2] * a;
  }

  /** Axis-aligned rectangle [x0, x1) x [y0, y1), clipped. */
  rect(x0: number, y0: number, x1: number, y1: number, c: Color, a = 1): void {
    const xa = Math.max(0, Math.round(x0));
    const xb = Math.min(this.width, Math.round(x1));
    const ya = Math.max(0, Math.round(y0));
    const yb = Math.min(this.height, Math.round(y1));
    for (let y = ya; y < yb; y++) for (let x = xa; x < xb; x++) this.blend(x, y, c, a);
  }

  /** Rectangle outline of integer `thickness`, drawn inside [x0, x1) x [y0, y1). */
  strokeRect(x0: number, y0: number, x1: number, y1: number, c: Color, thickness = 1): void {
    this.rect(x0, y0, x1, y0 + thickness, c);
    this.rect(x0, y1 - thickness, x1, y1, c);
    this.rect(x0, y0, x0 + thickness, y1, c);
    this.rect(x1 - thickness, y0, x1, y1, c);
  }

  /** Anti-aliased line segment of width `thickness` (distance-to-segment coverage). */
  line(x0: number, y0: number, x1: number, y1: number, c: Color, thickness = 1): void {
    const r = thickness / 2;
    const xa = Math.max(0, Math.floor(Math.min(x0, x1) - r - 1));
    const xb = Math.min(this.width - 1, Math.ceil(Math.max(x0, x1) + r + 1));
    const ya = Math.max(0, Math.floor(Math.min(y0, y1) - r - 1));
    const yb = Math.min(this.height - 1, Math.ceil(Math.max(y0, y1) + r + 1));
    const dx = x1 - x0;
    const dy = y1 - y0;
    const len2 = dx * dx + dy * dy || 1;
    for (let y = ya; y <= yb; y++) {
      for (let x = xa; x <= xb; x++) {
        const px = x + 0.5;
        const py = y + 0.5;
        const t = Math.min(1, Math.max(0, ((px - x0) * dx + (py - y0) * dy) / len2));
        const ex = px - (x0 + t * dx);
        const ey = py - (y0 + t * dy);
        const cover = r + 0.5 - Math.sqrt(ex * ex + ey * ey);
        if (cover > 0) this.blend(x, y, c, Math.min(1, cover));
      }
    }
  }

  /** Filled anti-aliased disc. */
  disc(cx: number, cy: number, radius: number, c: Color, a = 1): void {
    const xa = Math.max(0, Math.floor(cx - radius - 1));
    const xb = Math.min(this.width - 1, Math.ceil(cx + radius + 1));
    const ya = Math.max(0, Math.floor(cy - radius - 1));
    const yb = Math.min(this.height - 1, Math.ceil(cy + radius + 1));
    for (let y = ya; y <= yb; y++) {
      for (let x = xa; x <= xb; x++) {
        const ex = x + 0.5 - cx;
        const ey = y + 0.5 - cy;
        const d = Math.sqrt(ex * ex + ey * ey);
        const cover = Math.min(1, radius + 0.5 - d);
        if (cover > 0) this.blend(x, y, c, a * cover);
      }
    }
  }

  /**
   * Soft rotated ellipse: opacity falls from `a` at the centre as exp(-k d^2) (d = normalised
   * radius), cut at d = 1.6. mode 'add' emits light, 'over' paints.
   */
  blob(cx: number, cy: number, rx: number, ry: number, angle: number, c: Color, a: number, sharpness = 2, mode: 'over' | 'add' = 'over'): void {
    const cos = Math.cos(angle);
    const sin = Math.sin(angle);
    const ext = 1.6 * Math.max(rx, ry);
    const xa = Math.max(0, Math.floor(cx - ext));
    const xb = Math.min(this.width - 1, Math.ceil(cx + ext));
    const ya = Math.max(0, Math.floor(cy - ext));
    const yb = Math.min(this.height - 1, Math.ceil(cy + ext));
    for (let y = ya; y <= yb; y++) {
      for (let x = xa; x <= xb; x++) {
        const dx = x + 0.5 - cx;
        const dy = y + 0.5 - cy;
        const u = (dx * cos + dy * sin) / rx;
        const v = (-dx * sin + dy * cos) / ry;
        const d2 = u * u + v * v;
        if (d2 > 2.56) continue;
        const w = a * Math.exp(-sharpness * d2);
        if (mode === 'add') this.add(x, y, c, w);
        else this.blend(x, y, c, w);
      }
    }
  }

  /** Text in the 5x7 bitmap font at integer `scale`; (x, y) is the top-left corner. */
  text(s: string, x: number, y: number, scale: number, c: Color): void {
    const k = Math.max(1, Math.round(scale));
    let ox = Math.round(x);
    const oy = Math.round(y);
    for (const ch of s) {
      const g = glyph(ch);
      for (let gy = 0; gy < GLYPH_HEIGHT; gy++) {
        for (let gx = 0; gx < GLYPH_WIDTH; gx++) {
          if (g[gy * GLYPH_WIDTH + gx]) this.rect(ox + gx * k, oy + gy * k, ox + (gx + 1) * k, oy + (gy + 1) * k, c);
        }
      }
      ox += GLYPH_ADVANCE * k;
    }
  }

  /** Gaussian noise; `mono` adds the same value to the three channels (grey images stay grey). */
  noise(rng: Rng, sigma: number, mono = true): void {
    const d = this.data;
    const n = fillNormal(rng, new Float32Array(mono ? d.length / 3 : d.length), sigma);
    if (mono) {
      for (let p = 0, i = 0; p < n.length; p++, i += 3) {
        d[i] += n[p];
        d[i + 1] += n[p];
        d[i + 2] += n[p];
      }
    } else {
      for (let i = 0; i < d.length; i++) d[i] += n[i];
    }
  }

  /**
   * Approximately Gaussian blur: three separable box blurs of radius r (sigma ~ r). `mono`
   * (grey images, all channels equal) blurs one channel and copies it: three times cheaper.
   */
  blur(r: number, mono = false): void {
    const radius = Math.round(r);
    if (radius < 1) return;
    if (!mono) {
      boxBlurRgb(this.data, this.width, this.height, radius, 3);
      return;
    }
    const d = this.data;
    const g = new Float32Array(this.width * this.height);
    for (let p = 0; p < g.length; p++) g[p] = d[p * 3];
    boxBlurRgb(g, this.width, this.height, radius, 3, 1);
    for (let p = 0; p < g.length; p++) {
      d[p * 3] = g[p];
      d[p * 3 + 1] = g[p];
      d[p * 3 + 2] = g[p];
    }
  }

  /** Paste another canvas at (x, y), clipped. */
  draw(src: Canvas, x: number, y: number): void {
    for (let sy = 0; sy < src.height; sy++) {
      const ty = y + sy;
      if (ty < 0 || ty >= this.height) continue;
      for (let sx = 0; sx < src.width; sx++) {
        const tx = x + sx;
        if (tx < 0 || tx >= this.width) continue;
        const si = (sy * src.width + sx) * 3;
        const ti = (ty * this.width + tx) * 3;
        this.data[ti] = src.data[si];
        this.data[ti + 1] = src.data[si + 1];
        this.data[ti + 2] = src.data[si + 2];
      }
    }
  }

  /** Bilinear resample to width x height (pixel centres aligned, edges clamped). */
  resized(width: number, height: number): Canvas {
    const out = new Canvas(width, height);
    const sx = this.width / width;
    const sy = this.height / height;
    const x0s = new Int32Array(width);
    const x1s = new Int32Array(width);
    const fxs = new Float32Array(width);
    for (let x = 0; x < width; x++) {
      const fx = Math.min(this.width - 1, Math.max(0, (x + 0.5) * sx - 0.5));
      x0s[x] = Math.floor(fx);
      x1s[x] = Math.min(this.width - 1, x0s[x] + 1);
      fxs[x] = fx - x0s[x];
    }
    const d = this.data;
    for (let y = 0; y < height; y++) {
      const fy = Math.min(this.height - 1, Math.max(0, (y + 0.5) * sy - 0.5));
      const y0 = Math.floor(fy);
      const y1 = Math.min(this.height - 1, y0 + 1);
      const ty = fy - y0;
      for (let x = 0; x < width; x++) {
        const a = (y0 * this.width + x0s[x]) * 3;
        const b = (y0 * this.width + x1s[x]) * 3;
        const c = (y1 * this.width + x0s[x]) * 3;
        const e = (y1 * this.width + x1s[x]) * 3;
        const tx = fxs[x];
        const o = (y * width + x) * 3;
        for (let k = 0; k < 3; k++) {
          const top = d[a + k] + (d[b + k] - d[a + k]) * tx;
          const bottom = d[c + k] + (d[e + k] - d[c + k]) * tx;
          out.data[o + k] = top + (bottom - top) * ty;
        }
      }
    }
    return out;
  }

  /** Quantise to an RGB uint8 image (clamped, rounded to nearest). */
  toImage(): Image {
    // Uint8ClampedArray clamps to [0, 255] and rounds (half to even) on assignment.
    const out = new Uint8ClampedArray(this.data.length);
    const d = this.data;
    for (let i = 0; i < out.length; i++) out[i] = d[i] * 255;
    return { data: new Uint8Array(out.buffer), width: this.width, height: this.height, channels: 3 };
  }
}

/**
 * In-place box blur of an interleaved `channels`-channel float image, `passes` times along rows
 * then along columns; borders are clamped. Running sums keep it O(pixels) whatever the radius,
 * and the column pass walks rows in memory order (one accumulator per column).
 */
export function boxBlurRgb(data: Float32Array, width: number, height: number, radius: number, passes: number, channels = 3): void {
  const inv = 1 / (2 * radius + 1);
  const stride = width * channels;
  // The row is copied with radius + 1 edge pixels repeated on each side, so no clamping per tap.
  const pad = radius + 1;
  const row = new Float32Array((width + 2 * pad) * channels);
  for (let p = 0; p < passes; p++) {
    for (let y = 0; y < height; y++) {
      const base = y * stride;
      row.set(data.subarray(base, base + stride), pad * channels);
      for (let k = 0; k < pad; k++) {
        for (let c = 0; c < channels; c++) {
          row[k * channels + c] = data[base + c];
          row[(pad + width + k) * channels + c] = data[base + stride - channels + c];
        }
      }
      for (let c = 0; c < channels; c++) {
        let acc = 0;
        for (let k = 1; k <= 2 * radius + 1; k++) acc += row[k * channels + c];
        const lead = (2 * radius + 2) * channels;
        for (let x = 0, i = c; x < width; x++, i += channels) {
          data[base + i] = acc * inv;
          acc += row[i + lead] - row[i + channels];
        }
      }
    }
  }
  const acc = new Float32Array(stride);
  for (let p = 0; p < passes; p++) {
    const src = data.slice();
    acc.fill(0);
    for (let k = -radius - 1; k < radius; k++) {
      const o = Math.min(height - 1, Math.max(0, k)) * stride;
      for (let i = 0; i < stride; i++) acc[i] += src[o + i];
    }
    for (let y = 0; y < height; y++) {
      const add = Math.min(height - 1, y + radius) * stride;
      const sub = Math.max(0, y - radius - 1) * stride;
      const out = y * stride;
      for (let i = 0; i < stride; i++) {
        acc[i] += src[add + i] - src[sub + i];
        data[out + i] = acc[i] * inv;
      }
    }
  }
}

/**
 * Standard normal quantiles at (i + 0.5) / 65536 (Acklam's rational approximation of the inverse
 * CDF): one table lookup per sample is several times cheaper than Box-Muller, and 16-bit
 * resolution is far finer than the uint8 images the noise ends up in.
 */
let normalTable: Float32Array | null = null;

function inverseNormalCdf(p: number): number {
  const a = [-39.69683028665376, 220.9460984245205, -275.9285104469687, 138.357751867269, -30.66479806614716, 2.506628277459239];
  const b = [-54.47609879822406, 161.5858368580409, -155.6989798598866, 66.80131188771972, -13.28068155288572];
  const c = [-0.007784894002430293, -0.3223964580411365, -2.400758277161838, -2.549732539343734, 4.374664141464968, 2.938163982698783];
  const d = [0.007784695709041462, 0.3224671290700398, 2.445134137142996, 3.754408661907416];
  const tail = (q: number) => (((((c[0] * q + c[1]) * q + c[2]) * q + c[3]) * q + c[4]) * q + c[5]) / ((((d[0] * q + d[1]) * q + d[2]) * q + d[3]) * q + 1);
  if (p < 0.02425) return tail(Math.sqrt(-2 * Math.log(p)));
  if (p > 1 - 0.02425) return -tail(Math.sqrt(-2 * Math.log(1 - p)));
  const q = p - 0.5;
  const r = q * q;
  return ((((((a[0] * r + a[1]) * r + a[2]) * r + a[3]) * r + a[4]) * r + a[5]) * q) / (((((b[0] * r + b[1]) * r + b[2]) * r + b[3]) * r + b[4]) * r + 1);
}

/** Normal(0, sigma) samples into `out`, one Rng draw per two samples (16 bits each). */
export function fillNormal(rng: Rng, out: Float32Array, sigma: number): Float32Array {
  if (!normalTable) {
    normalTable = new Float32Array(65536);
    for (let i = 0; i < 65536; i++) normalTable[i] = inverseNormalCdf((i + 0.5) / 65536);
  }
  const table = normalTable;
  for (let i = 0; i < out.length; i += 2) {
    const u = rng.nextUint32();
    out[i] = sigma * table[u & 0xffff];
    if (i + 1 < out.length) out[i + 1] = sigma * table[u >>> 16];
  }
  return out;
}

/**
 * Smooth value noise in [0, 1]: random values on a grid of `cell` pixels, smoothstep-interpolated.
 * Summing octaves (see `fractalNoise`) gives cloudy textures (SEM surfaces, uneven backgrounds).
 */
export function valueNoise(rng: Rng, width: number, height: number, cell: number): Float32Array {
  const c = Math.max(1, cell);
  const gw = Math.ceil(width / c) + 2;
  const gh = Math.ceil(height / c) + 2;
  const grid = new Float32Array(gw * gh);
  for (let i = 0; i < grid.length; i++) grid[i] = rng.next();
  // Column positions and weights depend on x only: compute them once.
  const xi = new Int32Array(width);
  const xt = new Float32Array(width);
  for (let x = 0; x < width; x++) {
    const gx = x / c;
    const x0 = Math.floor(gx);
    const t = gx - x0;
    xi[x] = x0;
    xt[x] = t * t * (3 - 2 * t);
  }
  const out = new Float32Array(width * height);
  for (let y = 0; y < height; y++) {
    const gy = y / c;
    const y0 = Math.floor(gy);
    let ty = gy - y0;
    ty = ty * ty * (3 - 2 * ty);
    const r0 = y0 * gw;
    const r1 = r0 + gw;
    const o = y * width;
    for (let x = 0; x < width; x++) {
      const i = xi[x];
      const tx = xt[x];
      const top = grid[r0 + i] + (grid[r0 + i + 1] - grid[r0 + i]) * tx;
      const bottom = grid[r1 + i] + (grid[r1 + i + 1] - grid[r1 + i]) * tx;
      out[o + x] = top + (bottom - top) * ty;
    }
  }
  return out;
}

/** Sum of value-noise octaves (cell halves, amplitude * `gain` each octave), normalised to [0, 1]. */
export function fractalNoise(rng: Rng, width: number, height: number, cell: number, octaves: number, gain = 0.5): Float32Array {
  const out = new Float32Array(width * height);
  let amp = 1;
  let total = 0;
  let c = cell;
  for (let o = 0; o < octaves && c >= 1; o++) {
    const layer = valueNoise(rng, width, height, c);
    for (let i = 0; i < out.length; i++) out[i] += amp * layer[i];
    total += amp;
    amp *= gain;
    c /= 2;
  }
  for (let i = 0; i < out.length; i++) out[i] /= total;
  return out;
}
