/**
 * Lane matching for western blots and gels: a lane (or a stretch of one) pasted over another lane,
 * as is or mirrored, is the most reported blot duplication, and the keypoint and block stages miss
 * it: band content is smooth and alike from lane to lane, and a lane pasted next to its source
 * touches it (detect.ts rejects touching copies as symmetric structure).
 *
 * Look-alike lanes cannot be told from a copy by their grey values (authentic lanes of one strip
 * agree at ZNCC up to ~0.97), but a copy also carries its source's pixel noise. So strips are
 * compared on the image's noise residual (laneResidual: grey minus its 3x3 mean, minus that
 * residual's mean along rows and columns, which removes band and seam edges), whose correlation
 * between two independently exposed lanes is ~0 while a pasted lane keeps most of it:
 * 1. Strips: runs of content rows against the figure's own background level (a gel is one strip).
 * 2. Every strip against itself and every other strip of about its height, as is and mirrored:
 *    every horizontal shift (or mirror axis) at once by FFT and, across strips, a few rows of
 *    vertical offset, scored by the strip-wide residual correlation against chance.
 * 3. The best shifts at full resolution: the run of columns whose correlation (over a few
 *    columns) reaches minCorrelation is the copied lane, the run of rows within it the copied
 *    stretch. Lanes are not segmented first: a copy is found wherever it was pasted.
 */
import type { Affine, ResampledTwinPair } from './geometry';
import type { GrayImage } from './grayscale';
import type { PanelBox } from './panels';
import { maskedEntropy } from './events';
import { type GrainRule, grainOf, grainy } from './exactRegions';
import { fft, nextPow2 } from '../util/fft';

export interface LaneOptions {
  /** Narrowest copied lane (px). */
  minLaneWidth: number;
  /** Largest vertical offset (px) searched between two strips. */
  maxRowShift: number;
  /** A shift is verified when its strip-wide residual correlation is this many times chance's spread. */
  minSearchZ: number;
  /** Rows per strip the search sums over (evenly spaced; all of a shorter strip). */
  maxRows: number;
  /** A column (row) belongs to a copy when its residual correlation over a few columns (rows) reaches this. */
  minCorrelation: number;
  /** Shortest copied stretch: rows, and share of the strip height (a lane copy is most of a lane). */
  minRunRows: number;
  minRunShare: number;
  /** Shifts verified per strip pair. */
  candidates: number;
}

export const LANE_DEFAULTS: LaneOptions = {
  minLaneWidth: 8,
  maxRowShift: 3,
  minSearchZ: 5,
  maxRows: 256,
  minCorrelation: 0.4,
  minRunRows: 24,
  minRunShare: 0.3,
  candidates: 4,
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
  const residual = laneResidual(gray);
  const spectra = new RowSpectra(residual, gray.width, nextPow2(2 * Math.max(0, ...strips.map((s) => s.w))));
  const matches: LaneMatch[] = [];
  for (let i = 0; i < strips.length; i++) {
    for (let j = i; j < strips.length; j++) {
      const a = strips[i];
      const b = strips[j];
      if (Math.abs(a.h - b.h) > Math.max(4, 0.1 * a.h)) continue;
      for (const shift of bestShifts(spectra, a, b, i === j, o)) {
        const m = verifyShift(residual, gray.width, a, b, shift, i === j, o);
        if (m && !matches.some((k) => overlaps(k, m))) matches.push(m);
      }
    }
  }
  return { strips, matches };
}

/**
 * Lane matches as twin pairs (pixel indices of copy and source, and the map copy -> source), less
 * those whose grey levels carry under `minEntropy` bits (few-level drawings repeat exactly) and,
 * given `grain`, those whose source or copy lacks grain (exactRegions.ts grainy): a match of noise
 * needs noise, and mirror-symmetric rendered edges (a colour wheel's rim, a checkerboard's squares)
 * correlate in their residual as well, between flat fills.
 */
export function laneTwinPairs(gray: GrayImage, opts: Partial<LaneOptions> = {}, minEntropy = 0, grain?: GrainRule): { map: Uint8Array; pairs: ResampledTwinPair[] } {
  const { width: W, height: H } = gray;
  const map = new Uint8Array(W * H);
  const textured = matchLanes(gray, opts)
    .matches.map((m) => ({ m, source: boxPixels(m.a, W), copy: boxPixels(m.b, W) }))
    .filter(({ source, copy }) => {
      if (grain && !(grainy(grainOf(gray, source), grain) && grainy(grainOf(gray, copy), grain))) return false;
      if (minEntropy <= 0) return true;
      const mask = new Uint8Array(W * H);
      for (const q of source) mask[q] = 1;
      for (const q of copy) mask[q] = 1;
      return maskedEntropy(gray.data, mask) >= minEntropy;
    });
  const pairs = textured.map(({ m, source, copy }) => {
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
  const spread = border[Math.floor(border.length * 0.9)] - border[Math.floor(border.length * 0.1)];
  // A textured border (membrane to the edge) has no blank gutters to cut at.
  if (spread > 16) return whole;
  // Content differs from the background by more than its own spread (a membrane can be a few
  // levels darker than the page only).
  const ink = (v: number) => Math.abs(v - bg) > Math.max(4, 2 * spread + 2);
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

/**
 * The residual lanes are compared on: the high-pass, minus its own mean over 17 pixels along the
 * row, then along the column. Band edges run along the rows and strip or seam edges along the
 * columns, and both look the same at any shift along them; pixel noise does not.
 */
export function laneResidual(gray: GrayImage): Float32Array {
  const { width: W, height: H } = gray;
  const r = highPass(gray);
  // The outermost pixels' 3x3 mean has fewer neighbours, so their residual is biased alike on
  // every edge of the figure (the left edge mirrored matched the right): left out, before the
  // line means (so they do not spread) and after (which leave them non-zero again).
  clearBorder(r, W, H, 2);
  removeLineMean(r, W, H, 1, W); // along rows
  removeLineMean(r, H, W, W, 1); // along columns
  clearBorder(r, W, H, 2);
  return r;
}

/** Sets the outermost `d` rows and columns to 0, in place. */
function clearBorder(r: Float32Array, W: number, H: number, d: number): void {
  for (let y = 0; y < H; y++) {
    if (y < d || y >= H - d) r.fill(0, y * W, (y + 1) * W);
    else {
      r.fill(0, y * W, y * W + Math.min(d, W));
      r.fill(0, y * W + Math.max(0, W - d), (y + 1) * W);
    }
  }
}

/**
 * Subtracts from every sample its mean over `half` samples either side along lines of `n` samples
 * (stride `step`), `lines` of them, line k starting at k * `next`, in place.
 */
function removeLineMean(r: Float32Array, n: number, lines: number, step: number, next: number, half = 8): void {
  const line = new Float32Array(n);
  for (let k = 0; k < lines; k++) {
    const start = k * next;
    for (let i = 0; i < n; i++) line[i] = r[start + i * step];
    let s = 0;
    let lo = 0;
    let hi = -1;
    for (let i = 0; i < n; i++) {
      while (hi < Math.min(n - 1, i + half)) s += line[++hi];
      while (lo < i - half) s -= line[lo++];
      r[start + i * step] = line[i] - s / (hi - lo + 1);
    }
  }
}

/** Grey minus its 3x3 mean (at the borders, the mean of the pixels inside), by separable sums. */
export function highPass(gray: GrayImage): Float32Array {
  const { width: W, height: H, data } = gray;
  const rows = new Float32Array(W * H);
  const count = (i: number, n: number) => (i > 0 ? 1 : 0) + 1 + (i < n - 1 ? 1 : 0);
  for (let y = 0; y < H; y++) {
    const o = y * W;
    for (let x = 0; x < W; x++) rows[o + x] = data[o + x] + (x > 0 ? data[o + x - 1] : 0) + (x < W - 1 ? data[o + x + 1] : 0);
  }
  const out = new Float32Array(W * H);
  for (let y = 0; y < H; y++) {
    const o = y * W;
    const cy = count(y, H);
    for (let x = 0; x < W; x++) {
      const sum = rows[o + x] + (y > 0 ? rows[o - W + x] : 0) + (y < H - 1 ? rows[o + W + x] : 0);
      out[o + x] = data[o + x] - sum / (cy * count(x, W));
    }
  }
  return out;
}

/** Where column x of strip a lands in strip b. */
const mapX = (s: Shift, x: number) => (s.flipped ? s.shift - x : x + s.shift);

/**
 * Column x of a may be compared: its image in b lies inside b and, within one strip, at least
 * minGap to its right, so that a lane is not compared with itself and, mirrored, each pair of
 * columns counts once (on the source's side of the axis: the copy's side maps back onto it).
 */
function comparable(s: Shift, x: number, a: PanelBox, b: PanelBox, same: boolean, minGap: number): boolean {
  const xb = mapX(s, x);
  return xb >= b.x && xb < b.x + b.w && (!same || xb - x >= minGap);
}

/** FFTs of strip rows (zero-padded to one length for the whole figure), computed once each. */
class RowSpectra {
  private cache = new Map<string, { re: Float64Array; im: Float64Array; energy: number }>();
  constructor(
    private r: Float32Array,
    private W: number,
    readonly n: number,
  ) {}

  row(strip: PanelBox, y: number): { re: Float64Array; im: Float64Array; energy: number } {
    const key = `${strip.x},${strip.w},${y}`;
    let s = this.cache.get(key);
    if (!s) {
      const re = new Float64Array(this.n);
      const im = new Float64Array(this.n);
      let energy = 0;
      for (let k = 0; k < strip.w; k++) {
        const v = this.r[y * this.W + strip.x + k];
        re[k] = v;
        energy += v * v;
      }
      fft(re, im);
      s = { re, im, energy };
      this.cache.set(key, s);
    }
    return s;
  }
}

/**
 * The shifts (and mirror axes) of strip b against strip a whose residual correlation, summed over
 * the strips, stands out from chance, for every shift at once: the cross-correlation (translations)
 * and convolution (mirrors) of their rows by FFT, summed over up to maxRows rows. A copied lane
 * adds its correlation at one shift; elsewhere the sum is noise around zero, of spread
 * 1 / sqrt(rows x width), so a shift needs minSearchZ times that.
 */
function bestShifts(spectra: RowSpectra, a: PanelBox, b: PanelBox, same: boolean, o: LaneOptions): Shift[] {
  const n = spectra.n;
  const half = n >> 1;
  const h = Math.min(a.h, b.h) - 2 * o.maxRowShift;
  const y0 = a.y + o.maxRowShift;
  const step = Math.max(1, Math.floor(h / o.maxRows));
  const base = b.y - a.y;
  const tr = new Float64Array(n);
  const ti = new Float64Array(n);
  const mr = new Float64Array(n);
  const mi = new Float64Array(n);
  const found: Shift[] = [];
  for (let dy = same ? 0 : -o.maxRowShift; dy <= (same ? 0 : o.maxRowShift); dy++) {
    tr.fill(0);
    ti.fill(0);
    mr.fill(0);
    mi.fill(0);
    let ea = 0;
    let eb = 0;
    let rows = 0;
    for (let y = y0; y < y0 + h; y += step) {
      const A = spectra.row(a, y);
      const B = spectra.row(b, y + base + dy);
      ea += A.energy;
      eb += B.energy;
      rows++;
      const Are = A.re;
      const Aim = A.im;
      const Bre = B.re;
      const Bim = B.im;
      // The rows are real, so their spectra and both products are Hermitian: the upper half is the
      // conjugate of the lower one, filled in below instead of summed.
      for (let k = 0; k <= half; k++) {
        const ar = Are[k];
        const ai = Aim[k];
        const br = Bre[k];
        const bi = Bim[k];
        tr[k] += ar * br + ai * bi; // conj(A) B: correlation
        ti[k] += ar * bi - ai * br;
        mr[k] += ar * br - ai * bi; // A B: convolution (mirrored b)
        mi[k] += ar * bi + ai * br;
      }
    }
    if (ea <= 0 || eb <= 0) continue;
    for (let k = 1; k < half; k++) {
      tr[n - k] = tr[k];
      ti[n - k] = -ti[k];
      mr[n - k] = mr[k];
      mi[n - k] = -mi[k];
    }
    fft(tr, ti, true);
    fft(mr, mi, true);
    const norm = n * Math.sqrt(ea * eb);
    const z = Math.sqrt(rows * Math.min(a.w, b.w));
    // Translation: b's local column = a's + k; the shift in image columns is k + b.x - a.x.
    for (let k = -(a.w - 1); k <= b.w - 1; k++) {
      if (same && k < o.minLaneWidth) continue; // a strip against itself: k and -k are one pair
      const score = tr[(k + n) % n] / norm;
      if (score * z >= o.minSearchZ) found.push({ shift: k + b.x - a.x, dy: base + dy, flipped: false, score });
    }
    // Mirror: a's local column + b's = m; in image columns x_b = (m + a.x + b.x) - x.
    for (let m = 0; m <= a.w + b.w - 2; m++) {
      const score = mr[m] / norm;
      if (score * z >= o.minSearchZ) found.push({ shift: m + a.x + b.x, dy: base + dy, flipped: true, score });
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
 * One shift at full resolution: the longest run of columns whose residual correlation (over
 * minLaneWidth columns, all rows) reaches minCorrelation, then within it the longest run of rows
 * that does (over a few rows). A match when both runs are long enough.
 */
function verifyShift(r: Float32Array, W: number, a: PanelBox, b: PanelBox, s: Shift, same: boolean, o: LaneOptions): LaneMatch | undefined {
  const h = Math.min(a.h, b.h, a.y + a.h - Math.max(a.y, b.y - s.dy));
  const rows = (y: number) => y >= a.y && y < a.y + h && y + s.dy >= b.y && y + s.dy < b.y + b.h;
  // Whether a column may be compared depends on the column only.
  const usable = Uint8Array.from({ length: a.w }, (_, i) => (comparable(s, a.x + i, a, b, same, o.minLaneWidth) ? 1 : 0));
  const sums = (x0: number, x1: number, y0: number, y1: number, axis: 'x' | 'y') => {
    const n = axis === 'x' ? x1 - x0 : y1 - y0;
    const p = new Float64Array(n);
    const ea = new Float64Array(n);
    const eb = new Float64Array(n);
    for (let y = y0; y < y1; y++) {
      if (!rows(y)) continue;
      for (let x = x0; x < x1; x++) {
        if (!usable[x - a.x]) continue;
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
    const m = matchOf(a, s, x0, cols, rowsRun);
    // A copy lies beside its source, not over it (overlapping halves are one structure).
    if (same && m.a.x < m.b.x + m.b.w && m.b.x < m.a.x + m.a.w) continue;
    return m;
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
    // An entry without pixels in both (a column mapped outside the other strip) ends a run.
    if (k < n && ea[k] > 0 && eb[k] > 0) {
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
