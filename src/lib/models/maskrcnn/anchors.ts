/**
 * torchvision's `AnchorGenerator` for one feature map: per cell, one anchor per (aspect ratio, size)
 * pair, ratio-major (index = r * sizes.length + s), cells row-major, so anchor k of cell (y, x) is
 * index (y * W + x) * A + k, which is the order the RPN head's outputs are flattened in.
 */
export interface AnchorConfig {
  /** Anchor sizes (square side in pixels); the seed: 16, 32, 64, 128. */
  sizes: readonly number[];
  /** Height / width ratios; the seed and torchvision: 0.5, 1, 2. */
  ratios: readonly number[];
}

/** torch.round: halves to even. */
function roundHalfEven(v: number): number {
  const r = Math.round(v);
  return Math.abs(v % 1) === 0.5 && r % 2 !== 0 ? r - 1 : r;
}

/** The zero-centred anchors of one cell, A x [x1,y1,x2,y2] (torchvision `generate_anchors`). */
export function cellAnchors(cfg: AnchorConfig): Float32Array {
  const out: number[] = [];
  for (const ratio of cfg.ratios) {
    const hr = Math.fround(Math.sqrt(ratio));
    const wr = Math.fround(1 / hr);
    for (const size of cfg.sizes) {
      const w = Math.fround(wr * size);
      const h = Math.fround(hr * size);
      out.push(roundHalfEven(-w / 2), roundHalfEven(-h / 2), roundHalfEven(w / 2), roundHalfEven(h / 2));
    }
  }
  return Float32Array.from(out);
}

export function anchorsPerCell(cfg: AnchorConfig): number {
  return cfg.sizes.length * cfg.ratios.length;
}

/**
 * Every anchor of a gridH x gridW map over an imageH x imageW (padded) batch tensor: strides are the
 * integer ratios image // grid, as torchvision computes them.
 */
export function gridAnchors(cfg: AnchorConfig, gridH: number, gridW: number, imageH: number, imageW: number): Float32Array {
  const base = cellAnchors(cfg);
  const a = base.length / 4;
  const sy = Math.floor(imageH / gridH);
  const sx = Math.floor(imageW / gridW);
  const out = new Float32Array(gridH * gridW * a * 4);
  for (let y = 0; y < gridH; y++) {
    for (let x = 0; x < gridW; x++) {
      for (let k = 0; k < a; k++) {
        const o = ((y * gridW + x) * a + k) * 4;
        out[o] = x * sx + base[k * 4];
        out[o + 1] = y * sy + base[k * 4 + 1];
        out[o + 2] = x * sx + base[k * 4 + 2];
        out[o + 3] = y * sy + base[k * 4 + 3];
      }
    }
  }
  return out;
}
