/**
 * SIFT (Lowe, IJCV 2004) in plain typed-array code, following OpenCV's implementation closely so
 * its keypoints and descriptors can be checked against OpenCV's (test/fixtures/make_sift_fixture.py):
 * a Gaussian scale space (separable blurs, `layers` + 3 images per octave), difference-of-Gaussian
 * extrema refined to sub-pixel and sub-scale position, low-contrast and edge responses rejected,
 * orientations from a 36-bin gradient histogram (a keypoint per peak >= 0.8 of the highest), and
 * 4x4x8 gradient-histogram descriptors, optionally RootSIFT (Arandjelovic & Zisserman, CVPR 2012).
 * OpenCV.js ships no SIFT, and the copy-move competition's 2nd-4th places all used it.
 */
import type { GrayImage } from './grayscale';
import { blur, downsample, type Plane, upsample2x } from './siftScaleSpace';

export interface SiftParams {
  /** Scale levels per octave (OpenCV nOctaveLayers). */
  layers: number;
  /** DoG contrast threshold, in units of a 0..1 image (OpenCV 0.04; 0.001-0.01 finds far more). */
  contrastThreshold: number;
  /** Principal-curvature ratio above which an extremum is an edge, not a blob. */
  edgeThreshold: number;
  /** Blur of the first level of each octave. */
  sigma: number;
  /** Double the image first (OpenCV does): finds small structures, costs ~4x. */
  doubleImage: boolean;
  /** Keep at most this many keypoints, the strongest responses first (0: all). */
  maxKeypoints: number;
  /** RootSIFT: L1-normalise then square-root (Hellinger kernel); else OpenCV's L2 normalisation. */
  rootSift: boolean;
}

export const SIFT_DEFAULTS: Readonly<SiftParams> = Object.freeze({
  layers: 3,
  contrastThreshold: 0.04,
  edgeThreshold: 10,
  sigma: 1.6,
  doubleImage: true,
  maxKeypoints: 0,
  rootSift: false,
});

/** Descriptor geometry (OpenCV's): d x d spatial cells, n orientation bins. */
export const SIFT_D = 4;
export const SIFT_N = 8;
export const SIFT_DIMS = SIFT_D * SIFT_D * SIFT_N;

export interface SiftKeypoints {
  count: number;
  /** Input-image pixels. */
  x: Float32Array;
  y: Float32Array;
  /** Diameter of the meaningful neighbourhood, as OpenCV's KeyPoint.size. */
  size: Float32Array;
  /** Degrees, OpenCV's convention (counter-clockwise seen with y down, i.e. 360 - atan2 angle). */
  angle: Float32Array;
  response: Float32Array;
  /** count x 128, unit L2 norm (both normalisations). */
  desc: Float32Array;
}

const IMG_BORDER = 5;
const MAX_INTERP_STEPS = 5;
const ORI_BINS = 36;
const ORI_SIG_FCTR = 1.5;
const ORI_RADIUS = 3 * ORI_SIG_FCTR;
const ORI_PEAK_RATIO = 0.8;
const DESCR_SCL_FCTR = 3;
const DESCR_MAG_THR = 0.2;
/** Blur assumed already present in the input image. */
const INIT_SIGMA = 0.5;

/** A refined extremum, in the coordinates of its octave. */
interface Extremum {
  octave: number;
  layer: number;
  x: number;
  y: number;
  /** Scale in octave pixels (sigma * 2^((layer + sub-layer) / layers)). */
  scale: number;
  response: number;
}

/** A Gaussian blur of a float plane (reflect-101 borders): siftScaleSpace's, or a faster one (OpenCV.js's). */
export type BlurFn = (src: Plane, sigma: number) => Plane;

export function detectSift(gray: GrayImage, params: Partial<SiftParams> = {}, blurFn: BlurFn = blur): SiftKeypoints {
  const p = { ...SIFT_DEFAULTS, ...params };
  const pyr = gaussianPyramid(gray, p, blurFn);
  const dog = pyr.map((oct) => oct.slice(1).map((g, i) => difference(g, oct[i])));
  const extrema: Extremum[] = [];
  for (let o = 0; o < dog.length; o++) findExtrema(dog[o], o, p, extrema);
  // Orientation peaks turn one extremum into several keypoints; keep the strongest extrema first
  // so the cap counts keypoint positions, as OpenCV's retainBest does.
  if (p.maxKeypoints > 0 && extrema.length > p.maxKeypoints) {
    extrema.sort((a, b) => b.response - a.response);
    extrema.length = p.maxKeypoints;
  }
  const first = p.doubleImage ? 0.5 : 1;
  const kps: { x: number; y: number; size: number; angle: number; response: number; desc: Float32Array }[] = [];
  const hist = new Float32Array(ORI_BINS);
  const gradients = new Map<Plane, Gradients>();
  for (const e of extrema) {
    const plane = pyr[e.octave][e.layer];
    let img = gradients.get(plane);
    if (!img) gradients.set(plane, (img = gradientsOf(plane)));
    const unit = first * 2 ** e.octave;
    for (const angle of orientations(img, e, hist)) {
      const desc = descriptor(img, e.x, e.y, angle, e.scale, p.rootSift);
      kps.push({ x: e.x * unit, y: e.y * unit, size: e.scale * 2 * unit, angle, response: e.response, desc });
    }
  }
  const n = kps.length;
  const out: SiftKeypoints = {
    count: n,
    x: new Float32Array(n),
    y: new Float32Array(n),
    size: new Float32Array(n),
    angle: new Float32Array(n),
    response: new Float32Array(n),
    desc: new Float32Array(n * SIFT_DIMS),
  };
  kps.forEach((k, i) => {
    out.x[i] = k.x;
    out.y[i] = k.y;
    out.size[i] = k.size;
    out.angle[i] = k.angle;
    out.response[i] = k.response;
    out.desc.set(k.desc, i * SIFT_DIMS);
  });
  return out;
}

/**
 * The descriptors of the left-right mirror of each keypoint's patch, without detecting again:
 * mirroring keeps the column cells, reverses the row cells and turns each orientation bin o into
 * -o (derivation in the test; the mirror's keypoint lies at the mirrored position).
 */
export function mirrorDescriptors(desc: Float32Array): Float32Array {
  const out = new Float32Array(desc.length);
  for (let base = 0; base < desc.length; base += SIFT_DIMS) {
    for (let r = 0; r < SIFT_D; r++) {
      for (let c = 0; c < SIFT_D; c++) {
        const to = base + (r * SIFT_D + c) * SIFT_N;
        const from = base + ((SIFT_D - 1 - r) * SIFT_D + c) * SIFT_N;
        for (let o = 0; o < SIFT_N; o++) out[to + o] = desc[from + ((SIFT_N - o) % SIFT_N)];
      }
    }
  }
  return out;
}

/** Octaves of layers + 3 Gaussian images, values 0..255 (OpenCV's buildGaussianPyramid). */
function gaussianPyramid(gray: GrayImage, p: SiftParams, blur: BlurFn): Plane[][] {
  let base: Plane = { data: Float32Array.from(gray.data), width: gray.width, height: gray.height };
  let have = INIT_SIGMA;
  if (p.doubleImage) {
    base = upsample2x(base);
    have = 2 * INIT_SIGMA;
  }
  base = blur(base, Math.sqrt(Math.max(p.sigma * p.sigma - have * have, 0.01)));
  // OpenCV counts octaves on the doubled image and adds one for it (firstOctave = -1).
  const octaves = Math.max(1, Math.round(Math.log2(Math.min(base.width, base.height))) - 2 + (p.doubleImage ? 1 : 0));
  const k = 2 ** (1 / p.layers);
  const steps: number[] = [];
  for (let i = 1; i < p.layers + 3; i++) {
    const prev = p.sigma * k ** (i - 1);
    steps.push(Math.sqrt((prev * k) ** 2 - prev ** 2));
  }
  const pyr: Plane[][] = [];
  for (let o = 0; o < octaves; o++) {
    const first = o === 0 ? base : downsample(pyr[o - 1][p.layers]);
    if (first.width < 2 * IMG_BORDER + 3 || first.height < 2 * IMG_BORDER + 3) break;
    const oct = [first];
    for (const s of steps) oct.push(blur(oct[oct.length - 1], s));
    pyr.push(oct);
  }
  return pyr;
}

function difference(a: Plane, b: Plane): Plane {
  const data = new Float32Array(a.data.length);
  for (let i = 0; i < data.length; i++) data[i] = a.data[i] - b.data[i];
  return { data, width: a.width, height: a.height };
}

/** Scale-space extrema of one octave's DoG stack, refined and filtered (OpenCV's findScaleSpaceExtrema). */
function findExtrema(dog: Plane[], octave: number, p: SiftParams, out: Extremum[]): void {
  const threshold = Math.floor((0.5 * p.contrastThreshold * 255) / p.layers);
  const { width: w, height: h } = dog[0];
  for (let l = 1; l <= p.layers; l++) {
    const prev = dog[l - 1].data;
    const cur = dog[l].data;
    const next = dog[l + 1].data;
    const offsets = [-w - 1, -w, -w + 1, -1, 0, 1, w - 1, w, w + 1];
    for (let y = IMG_BORDER; y < h - IMG_BORDER; y++) {
      for (let x = IMG_BORDER, i = y * w + IMG_BORDER; x < w - IMG_BORDER; x++, i++) {
        const v = cur[i];
        if (!(Math.abs(v) > threshold) || !isExtremum(v, i, offsets, prev, cur, next)) continue;
        const e = refine(dog, octave, l, x, y, p);
        if (e) out.push(e);
      }
    }
  }
}

function isExtremum(v: number, i: number, offsets: number[], prev: Float32Array, cur: Float32Array, next: Float32Array): boolean {
  if (v > 0) {
    for (const d of offsets) {
      if (prev[i + d] > v || next[i + d] > v || (d !== 0 && cur[i + d] > v)) return false;
    }
  } else {
    for (const d of offsets) {
      if (prev[i + d] < v || next[i + d] < v || (d !== 0 && cur[i + d] < v)) return false;
    }
  }
  return true;
}

/**
 * Newton steps on the DoG's quadratic fit (OpenCV's adjustLocalExtrema): sub-pixel position and
 * scale, then the low-contrast test |D(x^)| * layers >= contrastThreshold (0..1 image units) and
 * the edge test tr(H)^2 / det(H) < (r+1)^2 / r.
 */
function refine(dog: Plane[], octave: number, layer: number, x: number, y: number, p: SiftParams): Extremum | undefined {
  const { width: w, height: h } = dog[0];
  const s1 = 1 / 255;
  const d1 = s1 * 0.5;
  const d2 = s1;
  const dc = s1 * 0.25;
  let xi = 0;
  let xr = 0;
  let xc = 0;
  // The value and derivatives at the sample the last step ran on: the step that converges does not
  // move, so the contrast and edge tests below read them instead of computing them again.
  let v = 0;
  let dx = 0;
  let dy = 0;
  let ds = 0;
  let dxx = 0;
  let dyy = 0;
  let dxy = 0;
  let step = 0;
  for (; step < MAX_INTERP_STEPS; step++) {
    const prev = dog[layer - 1].data;
    const cur = dog[layer].data;
    const next = dog[layer + 1].data;
    const i = y * w + x;
    v = cur[i];
    dx = (cur[i + 1] - cur[i - 1]) * d1;
    dy = (cur[i + w] - cur[i - w]) * d1;
    ds = (next[i] - prev[i]) * d1;
    const v2 = v * 2;
    dxx = (cur[i + 1] + cur[i - 1] - v2) * d2;
    dyy = (cur[i + w] + cur[i - w] - v2) * d2;
    const dss = (next[i] + prev[i] - v2) * d2;
    dxy = (cur[i + w + 1] - cur[i + w - 1] - cur[i - w + 1] + cur[i - w - 1]) * dc;
    const dxs = (next[i + 1] - next[i - 1] - prev[i + 1] + prev[i - 1]) * dc;
    const dys = (next[i + w] - next[i - w] - prev[i + w] + prev[i - w]) * dc;
    const sol = solve3(dxx, dxy, dxs, dyy, dys, dss, dx, dy, ds);
    if (!sol) return undefined;
    [xc, xr, xi] = [-sol[0], -sol[1], -sol[2]];
    if (Math.abs(xi) < 0.5 && Math.abs(xr) < 0.5 && Math.abs(xc) < 0.5) break;
    if (Math.abs(xi) > 1e6 || Math.abs(xr) > 1e6 || Math.abs(xc) > 1e6) return undefined;
    x += Math.round(xc);
    y += Math.round(xr);
    layer += Math.round(xi);
    if (layer < 1 || layer > p.layers || x < IMG_BORDER || x >= w - IMG_BORDER || y < IMG_BORDER || y >= h - IMG_BORDER) return undefined;
  }
  if (step >= MAX_INTERP_STEPS) return undefined;
  const contrast = v * s1 + 0.5 * (dx * xc + dy * xr + ds * xi);
  if (Math.abs(contrast) * p.layers < p.contrastThreshold) return undefined;
  const tr = dxx + dyy;
  const det = dxx * dyy - dxy * dxy;
  const r = p.edgeThreshold;
  if (det <= 0 || tr * tr * r >= (r + 1) * (r + 1) * det) return undefined;
  return { octave, layer, x: x + xc, y: y + xr, scale: p.sigma * 2 ** ((layer + xi) / p.layers), response: Math.abs(contrast) };
}

/** Solves the symmetric system [[a b c] [b d e] [c e f]] s = g (Cramer); undefined when singular. */
function solve3(a: number, b: number, c: number, d: number, e: number, f: number, g0: number, g1: number, g2: number): [number, number, number] | undefined {
  const A = d * f - e * e;
  const B = c * e - b * f;
  const C = b * e - c * d;
  const det = a * A + b * B + c * C;
  if (!(Math.abs(det) > 1e-30)) return undefined;
  const D = a * f - c * c;
  const E = b * c - a * e;
  const F = a * d - b * b;
  return [(A * g0 + B * g1 + C * g2) / det, (B * g0 + D * g1 + E * g2) / det, (C * g0 + E * g1 + F * g2) / det];
}

/**
 * Gradient magnitude and direction (degrees in [0, 360), y up as OpenCV) of every interior pixel of
 * a scale level, computed once for all the keypoints on it (the borders stay 0: never read).
 */
interface Gradients {
  mag: Float32Array;
  ori: Float32Array;
  width: number;
  height: number;
}

function gradientsOf(img: Plane): Gradients {
  const { data, width: w, height: h } = img;
  const mag = new Float32Array(w * h);
  const ori = new Float32Array(w * h);
  for (let y = 1; y < h - 1; y++) {
    for (let x = 1, k = y * w + 1; x < w - 1; x++, k++) {
      const gx = data[k + 1] - data[k - 1];
      const gy = data[k - w] - data[k + w];
      mag[k] = Math.sqrt(gx * gx + gy * gy);
      ori[k] = degrees(Math.atan2(gy, gx));
    }
  }
  return { mag, ori, width: w, height: h };
}

/** Dominant gradient orientations around an extremum, in OpenCV's angle convention (degrees). */
function orientations(img: Gradients, e: Extremum, hist: Float32Array): number[] {
  const { mag, ori, width: w, height: h } = img;
  const cx = Math.round(e.x);
  const cy = Math.round(e.y);
  const sigma = ORI_SIG_FCTR * e.scale;
  const radius = Math.round(ORI_RADIUS * e.scale);
  const expScale = -1 / (2 * sigma * sigma);
  hist.fill(0);
  for (let i = -radius; i <= radius; i++) {
    const y = cy + i;
    if (y <= 0 || y >= h - 1) continue;
    for (let j = -radius; j <= radius; j++) {
      const x = cx + j;
      if (x <= 0 || x >= w - 1) continue;
      const k = y * w + x;
      const weight = Math.exp((i * i + j * j) * expScale);
      let bin = Math.round((ORI_BINS / 360) * ori[k]);
      if (bin >= ORI_BINS) bin -= ORI_BINS;
      hist[bin] += weight * mag[k];
    }
  }
  const smooth = new Float32Array(ORI_BINS);
  const at = (b: number) => hist[(b + ORI_BINS) % ORI_BINS];
  let max = 0;
  for (let b = 0; b < ORI_BINS; b++) {
    smooth[b] = (at(b - 2) + at(b + 2)) * (1 / 16) + (at(b - 1) + at(b + 1)) * (4 / 16) + at(b) * (6 / 16);
    max = Math.max(max, smooth[b]);
  }
  const angles: number[] = [];
  for (let b = 0; b < ORI_BINS; b++) {
    const l = smooth[(b + ORI_BINS - 1) % ORI_BINS];
    const r = smooth[(b + 1) % ORI_BINS];
    const c = smooth[b];
    if (!(c > l && c > r && c >= ORI_PEAK_RATIO * max)) continue;
    let bin = b + (0.5 * (l - r)) / (l - 2 * c + r);
    bin = bin < 0 ? ORI_BINS + bin : bin >= ORI_BINS ? bin - ORI_BINS : bin;
    let angle = 360 - (360 / ORI_BINS) * bin;
    if (Math.abs(angle - 360) < 1e-5) angle = 0;
    angles.push(angle);
  }
  return angles;
}

function degrees(rad: number): number {
  const d = (rad * 180) / Math.PI;
  return d < 0 ? d + 360 : d;
}

/** The 4x4x8 gradient-histogram descriptor with trilinear interpolation (OpenCV's calcSIFTDescriptor). */
function descriptor(img: Gradients, px: number, py: number, kpAngle: number, scale: number, rootSift: boolean): Float32Array {
  const { mag: mags, ori, width: w, height: h } = img;
  const d = SIFT_D;
  const n = SIFT_N;
  const cx = Math.round(px);
  const cy = Math.round(py);
  let angle = 360 - kpAngle;
  if (Math.abs(angle - 360) < 1e-5) angle = 0;
  const rad = (angle * Math.PI) / 180;
  const histWidth = DESCR_SCL_FCTR * scale;
  const radius = Math.min(Math.round(histWidth * Math.SQRT2 * (d + 1) * 0.5), Math.round(Math.hypot(w, h)));
  const cosT = Math.cos(rad) / histWidth;
  const sinT = Math.sin(rad) / histWidth;
  const binsPerDeg = n / 360;
  const expScale = -1 / (d * d * 0.5);
  const hist = new Float32Array((d + 2) * (d + 2) * (n + 2));
  for (let i = -radius; i <= radius; i++) {
    const y = cy + i;
    if (y <= 0 || y >= h - 1) continue;
    for (let j = -radius; j <= radius; j++) {
      const x = cx + j;
      if (x <= 0 || x >= w - 1) continue;
      const cRot = j * cosT - i * sinT;
      const rRot = j * sinT + i * cosT;
      const rbin = rRot + d / 2 - 0.5;
      const cbin = cRot + d / 2 - 0.5;
      if (!(rbin > -1 && rbin < d && cbin > -1 && cbin < d)) continue;
      const k = y * w + x;
      let obin = (ori[k] - angle) * binsPerDeg;
      const mag = mags[k] * Math.exp((cRot * cRot + rRot * rRot) * expScale);
      const r0 = Math.floor(rbin);
      const c0 = Math.floor(cbin);
      let o0 = Math.floor(obin);
      const fr = rbin - r0;
      const fc = cbin - c0;
      obin -= o0;
      if (o0 < 0) o0 += n;
      if (o0 >= n) o0 -= n;
      // Trilinear spread into (row, col, orientation); the +1 guard cells absorb r0 = -1, c0 = -1.
      const v1 = mag * fr;
      const v0 = mag - v1;
      const v11 = v1 * fc;
      const v10 = v1 - v11;
      const v01 = v0 * fc;
      const v00 = v0 - v01;
      const idx = ((r0 + 1) * (d + 2) + c0 + 1) * (n + 2) + o0;
      const row = (d + 2) * (n + 2);
      const col = n + 2;
      hist[idx] += v00 * (1 - obin);
      hist[idx + 1] += v00 * obin;
      hist[idx + col] += v01 * (1 - obin);
      hist[idx + col + 1] += v01 * obin;
      hist[idx + row] += v10 * (1 - obin);
      hist[idx + row + 1] += v10 * obin;
      hist[idx + row + col] += v11 * (1 - obin);
      hist[idx + row + col + 1] += v11 * obin;
    }
  }
  const out = new Float32Array(SIFT_DIMS);
  for (let r = 0; r < d; r++) {
    for (let c = 0; c < d; c++) {
      const idx = ((r + 1) * (d + 2) + c + 1) * (n + 2);
      hist[idx] += hist[idx + n];
      hist[idx + 1] += hist[idx + n + 1];
      for (let o = 0; o < n; o++) out[(r * d + c) * n + o] = hist[idx + o];
    }
  }
  return normalise(out, rootSift);
}

/** OpenCV's clip at 0.2 of the norm and renormalise; RootSIFT then takes the square root of the L1-normalised vector. */
function normalise(v: Float32Array, rootSift: boolean): Float32Array {
  let nrm2 = 0;
  for (let k = 0; k < v.length; k++) nrm2 += v[k] * v[k];
  const thr = Math.sqrt(nrm2) * DESCR_MAG_THR;
  nrm2 = 0;
  for (let k = 0; k < v.length; k++) {
    v[k] = Math.min(v[k], thr);
    nrm2 += v[k] * v[k];
  }
  const inv = 1 / Math.max(Math.sqrt(nrm2), 1e-7);
  for (let k = 0; k < v.length; k++) v[k] *= inv;
  if (!rootSift) return v;
  let l1 = 0;
  for (let k = 0; k < v.length; k++) l1 += v[k];
  const invL1 = 1 / Math.max(l1, 1e-7);
  // sqrt of an L1-unit vector has unit L2 norm.
  for (let k = 0; k < v.length; k++) v[k] = Math.sqrt(v[k] * invL1);
  return v;
}
