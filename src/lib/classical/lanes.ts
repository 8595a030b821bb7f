/**
 * Lane matching for western blots and gels: a lane (or a stretch of one) pasted over another lane,
 * as is or mirrored, is the most reported blot duplication, and the keypoint and block stages miss
 * it: band content is smooth and alike from lane to lane, and a lane pasted next to its source
 * touches it (detect.ts rejects touching copies as symmetric structure).
 *
 * Look-alike lanes cannot be told from a copy by their grey values (authentic lanes of one strip
 * agree at ZNCC up to ~0.97), but a copy also carries its source's pixel noise. So strips are
 * compared on the image's high-pass residual (grey minus its 3x3 mean), whose correlation between
 * two independently exposed lanes is ~0 while a pasted lane keeps most of it:
 * 1. Strips: runs of content rows against the figure's own background level (a gel is one strip).
 * 2. Every strip against itself and every other strip of about its height, as is and mirrored:
 *    every horizontal shift (or mirror axis) and, across strips, a few rows of vertical offset,
 *    scored on a sample of rows by the best residual correlation over a lane-wide run of columns.
 * 3. The best shifts at full resolution: the run of columns whose correlation (over a few
 *    columns) reaches minCorrelation is the copied lane, the run of rows within it the copied
 *    stretch. Lanes are not segmented first: a copy is found wherever it was pasted.
 */
import type { Affine, ResampledTwinPair } from './geometry';
import type { GrayImage } from './grayscale';
import type { PanelBox } from './panels';

export interface LaneOptions {
  /** Narrowest copied lane (px). */
  minLaneWidth: number;
  /** Largest vertical offset (px) searched between two strips. */
  maxRowShift: number;
  /** Search score (residual correlation over a lane-wide run of sampled columns) a shift needs to be verified. */
  minSearchCorrelation: number;
  /** A column (row) belongs to a copy when its residual correlation over a few columns (rows) reaches this. */
  minCorrelation: number;
  /** Shortest copied stretch: rows, and share of the strip height. */
  minRunRows: number;
  minRunShare: number;
  /** Shifts verified per strip pair. */
  candidates: number;
  /** Residual energy per pixel (grey levels^2) below which a column is too flat to compare. */
  minResidualPower: number;
}

export const LANE_DEFAULTS: LaneOptions = {
  minLaneWidth: 8,
  maxRowShift: 3,
  minSearchCorrelation: 0.35,
  minCorrelation: 0.5,
  minRunRows: 12,
  minRunShare: 0.3,
  candidates: 4,
  minResidualPower: 0.25,
};

/** One copied lane: its stretch in the source and in the copy, and the residual correlation. */
export interface LaneMatch {
  a: PanelBox;
  b: PanelBox;
  flipped: boolean;
  /** Mean column-wise residual correlation over the copied lane. */
  correlation: number;
}

/** A column map between two strips: x in a -> (flipped ? shift - x : x + shift) in b, rows + dy. */
interface Shift {
  shift: number;
  dy: number;
  flipped: boolean;
  score: number;
}

/** Copied lanes of a blot or gel figure. */
export function matchLanes(gray: GrayImage, opts: Partial<LaneOptions> = {}): { strips: PanelBox[]; matches: LaneMatch[] } {
  const o = { ...LANE_DEFAULTS, ...opts };
  const strips = stripsOf(gray).filter((s) => s.w >= 3 * o.minLaneWidth && s.h >= o.minRunRows);
  const residual = highPass(gray);
  const matches: LaneMatch[] = [];
  for (let i = 0; i < strips.length; i++) {
    for (let j = i; j < strips.length; j++) {
      const a = strips[i];
      const b = strips[j];
      if (Math.abs(a.h - b.h) > Math.max(4, 0.1 * a.h)) continue;
      for (const shift of bestShifts(residual, gray.width, a, b, i === j, o)) {
        const m = verifyShift(residual, gray.width, a, b, shift, i === j, o);
        if (m && !matches.some((k) => overlaps(k, m))) matches.push(m);
      }
    }
  }
  return { strips, matches };
}

/** Lane matches as twin pairs (pixel indices of copy and source, and the map copy -> source). */
export function laneTwinPairs(gray: GrayImage, opts: Partial<LaneOptions> = {}): { map: Uint8Array; pairs: ResampledTwinPair[] } {
  const { width: W, height: H } = gray;
  const map = new Uint8Array(W * H);
  const pairs = matchLanes(gray, opts).matches.map((m) => {
    const source = boxPixels(m.a, W);
    const copy = boxPixels(m.b, W);
    for (const q of source) map[q] = 1;
    for (const q of copy) map[q] = 1;
    // b -> a: x_a = a.x + (x_b - b.x), or mirrored a.x + (b.x + b.w - 1 - x_b); y_a = y_b + a.y - b.y.
    const similarity: Affine = m.flipped ? [-1, 0, m.a.x + m.b.x + m.b.w - 1, 0, 1, m.a.y - m.b.y] : [1, 0, m.a.x - m.b.x, 0, 1, m.a.y - m.b.y];
    return { copy, source, similarity };
  });
  return { map, pairs };
}

/**
 * Strips: runs of rows that hold content (at least a tenth of the row differs from the
 * background), each narrowed to the columns that are mostly content (labels beside a strip are
 * sparse ink). The background is the figure's border level; a figure without blank margins (a gel
 * photographed edge to edge) is one strip.
 */
function stripsOf(gray: GrayImage): PanelBox[] {
  const { width: W, height: H, data } = gray;
  const border: number[] = [];
  for (let x = 0; x < W; x++) border.push(data[x], data[(H - 1) * W + x]);
  for (let y = 0; y < H; y++) border.push(data[y * W], data[y * W + W - 1]);
  border.sort((a, b) => a - b);
  const bg = border[border.length >> 1];
  const whole = [{ x: 0, y: 0, w: W, h: H }];
  // A textured border (membrane to the edge) has no blank gutters to cut at.
  if (border[Math.floor(border.length * 0.9)] - border[Math.floor(border.length * 0.1)] > 16) return whole;
  const ink = (v: number) => Math.abs(v - bg) > 12;
  const rowContent = (y: number, x0: number, x1: number) => {
    let k = 0;
    for (let x = x0; x < x1; x++) if (ink(data[y * W + x])) k++;
    return k / Math.max(1, x1 - x0);
  };
  const runs = (n: number, has: (i: number) => boolean, minLength: number) => {
    const out: [number, number][] = [];
    let start = -1;
    for (let i = 0; i <= n; i++) {
      if (i < n && has(i)) {
        if (start < 0) start = i;
      } else if (start >= 0) {
        if (i - start >= minLength) out.push([start, i]);
        start = -1;
      }
    }
    return out;
  };
  const strips: PanelBox[] = [];
  // A strip is at least a tenth of the figure high (shorter runs are labels, axes or a gel's stray rows).
  for (const [y0, y1] of runs(H, (y) => rowContent(y, 0, W) >= 0.1, Math.max(16, Math.round(0.1 * H)))) {
    const colContent = (x: number) => {
      let k = 0;
      for (let y = y0; y < y1; y++) if (ink(data[y * W + x])) k++;
      return k / (y1 - y0);
    };
    for (const [x0, x1] of runs(W, (x) => colContent(x) >= 0.5, 8)) strips.push({ x: x0, y: y0, w: x1 - x0, h: y1 - y0 });
  }
  return strips.length ? strips : whole;
}

/** Grey minus its 3x3 mean (borders: the mean of the pixels inside). */
export function highPass(gray: GrayImage): Float32Array {
  const { width: W, height: H, data } = gray;
  const out = new Float32Array(W * H);
  for (let y = 0; y < H; y++) {
    for (let x = 0; x < W; x++) {
      let s = 0;
      let k = 0;
      for (let v = Math.max(0, y - 1); v <= Math.min(H - 1, y + 1); v++) {
        for (let u = Math.max(0, x - 1); u <= Math.min(W - 1, x + 1); u++) {
          s += data[v * W + u];
          k++;
        }
      }
      out[y * W + x] = data[y * W + x] - s / k;
    }
  }
  return out;
}

/** Where column x of strip a lands in strip b. */
const mapX = (s: Shift, x: number) => (s.flipped ? s.shift - x : x + s.shift);

/**
 * Column x of a may be compared: its image in b lies inside b and, within one strip, far enough
 * from x that a lane is not compared with itself (or, mirrored, with its own other half).
 */
function comparable(s: Shift, x: number, a: PanelBox, b: PanelBox, same: boolean, minGap: number): boolean {
  const xb = mapX(s, x);
  return xb >= b.x && xb < b.x + b.w && (!same || Math.abs(xb - x) >= minGap);
}

/**
 * The shifts (and mirror axes) of strip b against strip a with the best residual correlation over
 * a lane-wide run of columns, scored on every 4th row and every 2nd column (the residual is near
 * white noise, so a sample scores a shift as well as all pixels, at an eighth of the cost).
 */
function bestShifts(r: Float32Array, W: number, a: PanelBox, b: PanelBox, same: boolean, o: LaneOptions): Shift[] {
  const h = Math.min(a.h, b.h) - 2 * o.maxRowShift;
  const y0 = a.y + o.maxRowShift;
  const base = b.y - a.y;
  const found: Shift[] = [];
  const window = Math.max(2, o.minLaneWidth); // sampled columns: two lanes' width
  const cols = Math.ceil(a.w / 2);
  const p = new Float64Array(cols);
  const ea = new Float64Array(cols);
  const eb = new Float64Array(cols);
  for (const flipped of [false, true]) {
    // Translations: b.x - a.x - a.w < shift < b.x + b.w - a.x; mirrors: x + x_b = shift over the same span.
    const lo = flipped ? a.x + b.x : b.x - a.x - a.w + 1;
    const hi = flipped ? a.x + a.w + b.x + b.w - 2 : b.x + b.w - a.x - 1;
    for (let dy = same ? 0 : -o.maxRowShift; dy <= (same ? 0 : o.maxRowShift); dy++) {
      for (let shift = lo; shift <= hi; shift++) {
        if (same && !flipped && shift < o.minLaneWidth) continue; // a translation and its inverse are one pair
        const s: Shift = { shift, dy: base + dy, flipped, score: 0 };
        p.fill(0);
        ea.fill(0);
        eb.fill(0);
        let any = false;
        for (let c = 0; c < cols; c++) {
          const x = a.x + 2 * c;
          if (!comparable(s, x, a, b, same, o.minLaneWidth)) continue;
          any = true;
          const xb = mapX(s, x);
          let sp = 0;
          let sa = 0;
          let sb = 0;
          for (let y = y0; y < y0 + h; y += 4) {
            const va = r[y * W + x];
            const vb = r[(y + s.dy) * W + xb];
            sp += va * vb;
            sa += va * va;
            sb += vb * vb;
          }
          p[c] = sp;
          ea[c] = sa;
          eb[c] = sb;
        }
        if (!any) continue;
        s.score = bestRun(p, ea, eb, window, o.minResidualPower * Math.ceil(h / 4));
        if (s.score >= o.minSearchCorrelation) found.push(s);
      }
    }
  }
  // The best few, one per neighbourhood (a copy scores on the shifts next to its own too).
  found.sort((x, y) => y.score - x.score);
  const kept: Shift[] = [];
  for (const s of found) {
    if (kept.length >= o.candidates) break;
    if (!kept.some((k) => k.flipped === s.flipped && Math.abs(k.shift - s.shift) <= 2 && Math.abs(k.dy - s.dy) <= 2)) kept.push(s);
  }
  return kept;
}

/**
 * Highest correlation over any `window` consecutive entries of the column sums, all of them with
 * residual energy above minPower in both strips (flat margins have none, and their quantisation
 * ripples correlate by chance).
 */
function bestRun(p: Float64Array, ea: Float64Array, eb: Float64Array, window: number, minPower: number): number {
  let sp = 0;
  let sa = 0;
  let sb = 0;
  let valid = 0;
  let best = -1;
  for (let c = 0; c < p.length; c++) {
    sp += p[c];
    sa += ea[c];
    sb += eb[c];
    valid += ea[c] > minPower && eb[c] > minPower ? 1 : 0;
    if (c >= window) {
      sp -= p[c - window];
      sa -= ea[c - window];
      sb -= eb[c - window];
      valid -= ea[c - window] > minPower && eb[c - window] > minPower ? 1 : 0;
    }
    if (valid === window) best = Math.max(best, sp / Math.sqrt(sa * sb));
  }
  return best;
}

/**
 * One shift at full resolution: the longest run of columns whose residual correlation (over
 * minLaneWidth columns, all rows) reaches minCorrelation, then within it the longest run of rows
 * that does (over a few rows). A match when both runs are long enough.
 */
function verifyShift(r: Float32Array, W: number, a: PanelBox, b: PanelBox, s: Shift, same: boolean, o: LaneOptions): LaneMatch | undefined {
  const h = Math.min(a.h, b.h, a.y + a.h - Math.max(a.y, b.y - s.dy));
  const rows = (y: number) => y >= a.y && y < a.y + h && y + s.dy >= b.y && y + s.dy < b.y + b.h;
  const sums = (x0: number, x1: number, y0: number, y1: number, axis: 'x' | 'y') => {
    const n = axis === 'x' ? x1 - x0 : y1 - y0;
    const p = new Float64Array(n);
    const ea = new Float64Array(n);
    const eb = new Float64Array(n);
    for (let y = y0; y < y1; y++) {
      if (!rows(y)) continue;
      for (let x = x0; x < x1; x++) {
        if (!comparable(s, x, a, b, same, o.minLaneWidth)) continue;
        const va = r[y * W + x];
        const vb = r[(y + s.dy) * W + mapX(s, x)];
        const k = axis === 'x' ? x - x0 : y - y0;
        p[k] += va * vb;
        ea[k] += va * va;
        eb[k] += vb * vb;
      }
    }
    return { p, ea, eb };
  };
  const byCol = sums(a.x, a.x + a.w, a.y, a.y + h, 'x');
  // Every lane-wide run of correlated columns, the longest first; the first whose rows also correlate.
  for (const cols of correlatedRuns(byCol, o.minLaneWidth, o.minCorrelation).filter((c) => c.length >= o.minLaneWidth)) {
    const x0 = a.x + cols.start;
    const byRow = sums(x0, x0 + cols.length, a.y, a.y + h, 'y');
    const rowsRun = correlatedRuns(byRow, 5, o.minCorrelation)[0];
    if (!rowsRun || rowsRun.length < Math.max(o.minRunRows, o.minRunShare * h)) continue;
    return matchOf(a, s, x0, cols, rowsRun);
  }
  return undefined;
}

function matchOf(a: PanelBox, s: Shift, x0: number, cols: Run, rowsRun: Run): LaneMatch {
  const y0 = a.y + rowsRun.start;
  const xb = s.flipped ? s.shift - (x0 + cols.length - 1) : x0 + s.shift;
  return {
    a: { x: x0, y: y0, w: cols.length, h: rowsRun.length },
    b: { x: xb, y: y0 + s.dy, w: cols.length, h: rowsRun.length },
    flipped: s.flipped,
    correlation: cols.mean,
  };
}

interface Run {
  start: number;
  length: number;
  mean: number;
}

/** Runs of entries whose correlation over a centred window of `window` entries reaches `min`, longest first. */
function correlatedRuns(sums: { p: Float64Array; ea: Float64Array; eb: Float64Array }, window: number, min: number): Run[] {
  const { p, ea, eb } = sums;
  const n = p.length;
  const half = window >> 1;
  const runs: Run[] = [];
  let start = -1;
  let total = 0;
  for (let k = 0; k <= n; k++) {
    let ncc = -1;
    if (k < n) {
      let sp = 0;
      let sa = 0;
      let sb = 0;
      for (let j = Math.max(0, k - half); j <= Math.min(n - 1, k + half); j++) {
        sp += p[j];
        sa += ea[j];
        sb += eb[j];
      }
      ncc = sa > 0 && sb > 0 ? sp / Math.sqrt(sa * sb) : -1;
    }
    if (ncc >= min) {
      if (start < 0) {
        start = k;
        total = 0;
      }
      total += ncc;
    } else if (start >= 0) {
      runs.push({ start, length: k - start, mean: total / (k - start) });
      start = -1;
    }
  }
  return runs.sort((x, y) => y.length - x.length);
}

/** Two matches over the same pixels (the same copy found from both strips or both shifts). */
function overlaps(m: LaneMatch, n: LaneMatch): boolean {
  const hit = (p: PanelBox, q: PanelBox) => p.x < q.x + q.w && q.x < p.x + p.w && p.y < q.y + q.h && q.y < p.y + p.h;
  return (hit(m.a, n.a) && hit(m.b, n.b)) || (hit(m.a, n.b) && hit(m.b, n.a));
}

function boxPixels(b: PanelBox, W: number): Int32Array {
  const out = new Int32Array(b.w * b.h);
  let i = 0;
  for (let y = b.y; y < b.y + b.h; y++) for (let x = b.x; x < b.x + b.w; x++) out[i++] = y * W + x;
  return out;
}
