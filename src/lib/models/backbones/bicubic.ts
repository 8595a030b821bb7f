/**
 * PyTorch's `interpolate(mode='bicubic', align_corners=False, antialias=False)` along one axis as a
 * row-major [outSize, inSize] matrix, so a 2-D resize is two matrix products (differentiable, every
 * backend). Per output index i: source x = (in/out) * (i + 0.5) - 0.5 (not clamped, as for cubic),
 * x0 = floor(x), t = x - x0, Keys' cubic convolution with A = -0.75 on x0-1..x0+2, indices clamped to
 * the edges (aten's upsample_bicubic2d: `upsample_get_value_bounded`), so weights of clamped taps add up.
 */
export function bicubicMatrix(inSize: number, outSize: number): Float32Array {
  const m = new Float32Array(outSize * inSize);
  // aten computes the scale and source index in float32 (opmath of float); Math.fround mirrors it
  const scale = Math.fround(inSize / outSize);
  for (let i = 0; i < outSize; i++) {
    const x = Math.fround(Math.fround(scale * (i + 0.5)) - 0.5);
    const x0 = Math.min(Math.floor(x), inSize - 1);
    const t = Math.min(Math.max(x - x0, 0), 1);
    const w = cubicWeights(t);
    for (let j = 0; j < 4; j++) {
      const src = Math.min(Math.max(x0 - 1 + j, 0), inSize - 1);
      m[i * inSize + src] += w[j];
    }
  }
  return m;
}

const A = -0.75;

/** Keys' kernel for |x| <= 1 and 1 < |x| < 2. */
const near = (x: number) => ((A + 2) * x - (A + 3)) * x * x + 1;
const far = (x: number) => ((A * x - 5 * A) * x + 8 * A) * x - 4 * A;

function cubicWeights(t: number): [number, number, number, number] {
  return [far(t + 1), near(t), near(1 - t), far(2 - t)];
}

/**
 * PyTorch's `interpolate(mode='bicubic', align_corners=False, antialias=True)` along one axis (what HF's
 * Dinov2WithRegisters uses): Pillow's separable filter (cubic with A = -0.5) stretched by the scale when
 * shrinking, taps outside the input dropped and the rest renormalised (aten's `_compute_weights_aa`).
 */
export function bicubicAntialiasMatrix(inSize: number, outSize: number): Float32Array {
  const m = new Float32Array(outSize * inSize);
  const scale = Math.fround(inSize / outSize);
  const support = scale >= 1 ? 2 * scale : 2; // interp_size 4 / 2, widened when downsampling
  const invscale = scale >= 1 ? 1 / scale : 1;
  for (let i = 0; i < outSize; i++) {
    const center = scale * (i + 0.5);
    const xmin = Math.max(Math.trunc(center - support + 0.5), 0);
    const xmax = Math.min(Math.trunc(center + support + 0.5), inSize);
    let total = 0;
    for (let j = xmin; j < xmax; j++) total += pillowCubic((j - center + 0.5) * invscale);
    if (total === 0) continue;
    for (let j = xmin; j < xmax; j++) m[i * inSize + j] = pillowCubic((j - center + 0.5) * invscale) / total;
  }
  return m;
}

/** Pillow's bicubic filter (A = -0.5), aten's `aa_filter` for bicubic. */
function pillowCubic(x: number): number {
  const a = -0.5;
  const t = Math.abs(x);
  if (t < 1) return ((a + 2) * t - (a + 3)) * t * t + 1;
  if (t < 2) return (((t - 5) * t + 8) * t - 4) * a;
  return 0;
}
