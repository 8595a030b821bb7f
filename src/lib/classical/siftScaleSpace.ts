/**
 * The image operations of SIFT's scale space on float planes, as OpenCV does them: separable
 * Gaussian blur (kernel 2*round(4 sigma)+1 taps, reflect-101 borders), 2x bilinear upsampling and
 * 2x decimation (every other pixel).
 */
export interface Plane {
  data: Float32Array;
  width: number;
  height: number;
}

/** Normalised Gaussian taps, OpenCV's size rule for float images. */
function gaussianKernel(sigma: number): Float32Array {
  const size = Math.round(sigma * 8 + 1) | 1;
  const k = new Float32Array(size);
  const c = (size - 1) / 2;
  let sum = 0;
  for (let i = 0; i < size; i++) sum += k[i] = Math.exp(-((i - c) ** 2) / (2 * sigma * sigma));
  for (let i = 0; i < size; i++) k[i] /= sum;
  return k;
}

/** Reflect-101 index (…2 1 | 0 1 2 … n-1 | n-2 …), for offsets up to a few times n. */
function reflect(i: number, n: number): number {
  if (n === 1) return 0;
  while (i < 0 || i >= n) i = i < 0 ? -i : 2 * n - 2 - i;
  return i;
}

/**
 * Separable Gaussian blur: each row through a reflect-padded line buffer, then the columns as
 * weighted sums of whole rows (row-major, cache-friendly), both using the kernel's symmetry.
 */
export function blur(src: Plane, sigma: number): Plane {
  const { width: w, height: h } = src;
  const k = gaussianKernel(sigma);
  const r = (k.length - 1) / 2;
  const tmp = new Float32Array(w * h);
  const line = new Float32Array(w + 2 * r);
  for (let y = 0; y < h; y++) {
    const row = y * w;
    line.set(src.data.subarray(row, row + w), r);
    for (let t = 1; t <= r; t++) {
      line[r - t] = src.data[row + reflect(t, w)];
      line[r + w - 1 + t] = src.data[row + reflect(w - 1 + t, w)];
    }
    for (let x = 0; x < w; x++) {
      const c = x + r;
      let s = k[r] * line[c];
      for (let t = 1; t <= r; t++) s += k[r + t] * (line[c - t] + line[c + t]);
      tmp[row + x] = s;
    }
  }
  const out = new Float32Array(w * h);
  for (let y = 0; y < h; y++) {
    const o = y * w;
    const mid = y * w;
    const kr = k[r];
    for (let x = 0; x < w; x++) out[o + x] = kr * tmp[mid + x];
    for (let t = 1; t <= r; t++) {
      const up = reflect(y - t, h) * w;
      const down = reflect(y + t, h) * w;
      const kt = k[r + t];
      for (let x = 0; x < w; x++) out[o + x] += kt * (tmp[up + x] + tmp[down + x]);
    }
  }
  return { data: out, width: w, height: h };
}

/** Twice the size, bilinear with half-pixel centres and replicated borders (OpenCV INTER_LINEAR). */
export function upsample2x(src: Plane): Plane {
  const { width: w, height: h } = src;
  const W = 2 * w;
  const H = 2 * h;
  const out = new Float32Array(W * H);
  const axis = (n: number) => {
    const i0 = new Int32Array(2 * n);
    const i1 = new Int32Array(2 * n);
    const f = new Float32Array(2 * n);
    for (let d = 0; d < 2 * n; d++) {
      const s = (d + 0.5) / 2 - 0.5;
      const lo = Math.floor(s);
      f[d] = s - lo;
      i0[d] = Math.min(Math.max(lo, 0), n - 1);
      i1[d] = Math.min(Math.max(lo + 1, 0), n - 1);
    }
    return { i0, i1, f };
  };
  const ax = axis(w);
  const ay = axis(h);
  for (let y = 0; y < H; y++) {
    const r0 = ay.i0[y] * w;
    const r1 = ay.i1[y] * w;
    const fy = ay.f[y];
    for (let x = 0; x < W; x++) {
      const fx = ax.f[x];
      const a = src.data[r0 + ax.i0[x]] * (1 - fx) + src.data[r0 + ax.i1[x]] * fx;
      const b = src.data[r1 + ax.i0[x]] * (1 - fx) + src.data[r1 + ax.i1[x]] * fx;
      out[y * W + x] = a * (1 - fy) + b * fy;
    }
  }
  return { data: out, width: W, height: H };
}

/** Every other pixel (OpenCV INTER_NEAREST to half size). */
export function downsample(src: Plane): Plane {
  const w = src.width >> 1;
  const h = src.height >> 1;
  const out = new Float32Array(w * h);
  for (let y = 0; y < h; y++) for (let x = 0; x < w; x++) out[y * w + x] = src.data[2 * y * src.width + 2 * x];
  return { data: out, width: w, height: h };
}
