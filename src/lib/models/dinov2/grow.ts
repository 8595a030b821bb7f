/**
 * Region growing and the resampling it needs, on plain row-major maps (no tensors): the cascade's
 * stage 3 grows each event core by cosine similarity, first on the token grid, then per pixel.
 */

/** Bilinear resize of an h x w map to H x W with half-pixel centres (align_corners false), edges clamped. */
export function upsampleBilinear(map: ArrayLike<number>, h: number, w: number, H: number, W: number): Float32Array {
  const out = new Float32Array(H * W);
  const sy = h / H;
  const sx = w / W;
  for (let y = 0; y < H; y++) {
    const fy = Math.min(Math.max((y + 0.5) * sy - 0.5, 0), h - 1);
    const y0 = Math.floor(fy);
    const y1 = Math.min(y0 + 1, h - 1);
    const ty = fy - y0;
    for (let x = 0; x < W; x++) {
      const fx = Math.min(Math.max((x + 0.5) * sx - 0.5, 0), w - 1);
      const x0 = Math.floor(fx);
      const x1 = Math.min(x0 + 1, w - 1);
      const tx = fx - x0;
      const top = map[y0 * w + x0] * (1 - tx) + map[y0 * w + x1] * tx;
      const bottom = map[y1 * w + x0] * (1 - tx) + map[y1 * w + x1] * tx;
      out[y * W + x] = top * (1 - ty) + bottom * ty;
    }
  }
  return out;
}

/** Nearest resize of a 0/1 h x w map to H x W (each cell becomes its block of pixels). */
export function upsampleNearest(map: ArrayLike<number>, h: number, w: number, H: number, W: number): Float32Array {
  const out = new Float32Array(H * W);
  for (let y = 0; y < H; y++) {
    const sy = Math.min(h - 1, Math.floor((y * h) / H));
    for (let x = 0; x < W; x++) out[y * W + x] = map[sy * w + Math.min(w - 1, Math.floor((x * w) / W))];
  }
  return out;
}

/**
 * Grow `seeds` (0/1) over the 4-connected cells where `accept(cell)` holds: the result is the seeds
 * plus every accepted cell reachable from a seed through accepted cells. Seeds are kept even where
 * they are not accepted themselves.
 */
export function growRegion(seeds: Uint8Array, h: number, w: number, accept: (cell: number) => boolean): Uint8Array {
  const out = new Uint8Array(h * w);
  const queue = new Int32Array(h * w);
  let tail = 0;
  for (let p = 0; p < h * w; p++) if (seeds[p]) (out[p] = 1), (queue[tail++] = p);
  for (let head = 0; head < tail; head++) {
    const p = queue[head];
    const y = Math.floor(p / w);
    const x = p - y * w;
    const visit = (q: number) => {
      if (!out[q] && accept(q)) (out[q] = 1), (queue[tail++] = q);
    };
    if (x > 0) visit(p - 1);
    if (x < w - 1) visit(p + 1);
    if (y > 0) visit(p - w);
    if (y < h - 1) visit(p + w);
  }
  return out;
}

/**
 * Token-resolution growth: from the core tokens, the neighbouring tokens whose similarity to the
 * event's centre reaches `threshold` and beats their similarity to the background's centre.
 */
export function growTokens(core: Uint8Array, simEvent: Float32Array, simBackground: Float32Array, h: number, w: number, threshold: number): Uint8Array {
  return growRegion(core, h, w, (t) => simEvent[t] >= threshold && simEvent[t] > simBackground[t]);
}

/**
 * Pixel-resolution growth: the grown tokens' pixels are kept (the token labels the losses learn are
 * area votes, so a token's block is the unbiased estimate of the region at that resolution), and they
 * grow into the pixels where the token similarities, resampled bilinearly, reach `threshold` and are
 * at least the similarity to the background: the mask follows the event past the 14 px token
 * blocks where the neighbouring tokens lean towards the event.
 */
export function growPixels(tokenMask: Float32Array, simEvent: Float32Array, simBackground: Float32Array, H: number, W: number, threshold: number): Uint8Array {
  const seeds = Uint8Array.from(tokenMask, (v) => (v >= 0.5 ? 1 : 0));
  return growRegion(seeds, H, W, (p) => simEvent[p] >= threshold && simEvent[p] >= simBackground[p]);
}
