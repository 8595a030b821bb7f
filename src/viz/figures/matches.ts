/**
 * Figures of the classical detector: keypoints and g2NN matches drawn on the image (coloured by
 * cluster, accepted copies' inliers bold), and predicted instance masks beside the truth.
 * Each returns a PNG Buffer (sharp); notebooks pass it to display.png.
 */
import sharp from 'sharp';
import type { Image, Masks } from '../../lib/data/types';
import type { CopyMoveDetection } from '../../lib/classical/detect';

type Rgb = [number, number, number];

const PALETTE: Rgb[] = [
  [230, 25, 75], [60, 180, 75], [0, 130, 200], [245, 130, 48], [145, 30, 180],
  [70, 240, 240], [240, 50, 230], [210, 245, 60], [0, 128, 128], [170, 110, 40],
];

/** Canvas of the image in dimmed grey (so coloured marks stand out), RGB uint8. */
function greyCanvas(image: Image, dim = 0.6): Uint8Array {
  const { width, height, channels, data } = image;
  const max = data instanceof Uint16Array ? Math.max(1, ...data) : 255;
  const out = new Uint8Array(width * height * 3);
  for (let i = 0; i < width * height; i++) {
    const o = i * channels;
    const g = channels >= 3 ? 0.299 * data[o] + 0.587 * data[o + 1] + 0.114 * data[o + 2] : data[o];
    const v = Math.round((g / max) * 255 * dim + 255 * (1 - dim) * 0.5);
    out[3 * i] = out[3 * i + 1] = out[3 * i + 2] = v;
  }
  return out;
}

function plot(buf: Uint8Array, w: number, h: number, x: number, y: number, c: Rgb, alpha = 1): void {
  if (x < 0 || y < 0 || x >= w || y >= h) return;
  const o = 3 * (y * w + x);
  for (let k = 0; k < 3; k++) buf[o + k] = Math.round(buf[o + k] * (1 - alpha) + c[k] * alpha);
}

function line(buf: Uint8Array, w: number, h: number, x0: number, y0: number, x1: number, y1: number, c: Rgb, alpha = 1): void {
  const steps = Math.max(1, Math.ceil(Math.max(Math.abs(x1 - x0), Math.abs(y1 - y0))));
  for (let s = 0; s <= steps; s++) {
    const t = s / steps;
    plot(buf, w, h, Math.round(x0 + (x1 - x0) * t), Math.round(y0 + (y1 - y0) * t), c, alpha);
  }
}

function dot(buf: Uint8Array, w: number, h: number, x: number, y: number, r: number, c: Rgb): void {
  for (let dy = -r; dy <= r; dy++) for (let dx = -r; dx <= r; dx++) if (dx * dx + dy * dy <= r * r) plot(buf, w, h, Math.round(x) + dx, Math.round(y) + dy, c);
}

function encode(buf: Uint8Array, width: number, height: number): Promise<Buffer> {
  return sharp(Buffer.from(buf.buffer, buf.byteOffset, buf.byteLength), { raw: { width, height, channels: 3 } }).png().toBuffer();
}

export interface MatchesFigureOptions {
  /** Draw all keypoints as small dots (default true). */
  keypoints?: boolean;
  /** At most this many unclustered matches are drawn (default 400), so the figure stays readable. */
  maxUnclustered?: number;
}

/** Keypoints (grey dots), unclustered matches (faint yellow), clustered matches in their cluster's colour. */
export function matchesFigure(image: Image, detection: CopyMoveDetection, opts: MatchesFigureOptions = {}): Promise<Buffer> {
  const { width: w, height: h } = image;
  const buf = greyCanvas(image);
  const { keypoints, matches } = detection.debug;
  const r = Math.max(1, Math.round(Math.max(w, h) / 500));
  if (opts.keypoints ?? true) for (let i = 0; i < keypoints.x.length; i++) plot(buf, w, h, Math.round(keypoints.x[i]), Math.round(keypoints.y[i]), [90, 90, 255], 0.8);
  const maxLoose = opts.maxUnclustered ?? 400;
  let loose = 0;
  for (let i = 0; i < matches.ax.length && loose < maxLoose; i++) {
    if (matches.cluster[i] >= 0) continue;
    loose++;
    line(buf, w, h, matches.ax[i], matches.ay[i], matches.bx[i], matches.by[i], [255, 220, 0], 0.35);
  }
  for (let i = 0; i < matches.ax.length; i++) {
    const c = matches.cluster[i];
    if (c < 0) continue;
    const col = PALETTE[c % PALETTE.length];
    line(buf, w, h, matches.ax[i], matches.ay[i], matches.bx[i], matches.by[i], col, 0.9);
    dot(buf, w, h, matches.ax[i], matches.ay[i], r, col);
    dot(buf, w, h, matches.bx[i], matches.by[i], r, col);
  }
  return encode(buf, w, h);
}

/** Tints each instance with its own colour and draws its outline. */
function overlay(buf: Uint8Array, masks: Masks): void {
  const { width: w, height: h } = masks;
  const n = w * h;
  for (let k = 0; k < masks.count; k++) {
    const col = PALETTE[k % PALETTE.length];
    const m = masks.data.subarray(k * n, (k + 1) * n);
    for (let y = 0; y < h; y++) {
      for (let x = 0; x < w; x++) {
        const i = y * w + x;
        if (!m[i]) continue;
        const edge = x === 0 || y === 0 || x === w - 1 || y === h - 1 || !m[i - 1] || !m[i + 1] || !m[i - w] || !m[i + w];
        plot(buf, w, h, x, y, col, edge ? 1 : 0.35);
      }
    }
  }
}

/** Truth (left) and prediction (right) instance masks over the image, side by side. */
export async function masksFigure(image: Image, predicted: Masks, truth?: Masks): Promise<Buffer> {
  const { width: w, height: h } = image;
  const gap = 8;
  const panels = truth ? 2 : 1;
  const W = w * panels + gap * (panels - 1);
  const out = new Uint8Array(W * h * 3).fill(255);
  const put = (panel: Uint8Array, k: number) => {
    for (let y = 0; y < h; y++) out.set(panel.subarray(y * w * 3, (y + 1) * w * 3), (y * W + k * (w + gap)) * 3);
  };
  let k = 0;
  if (truth) {
    const t = greyCanvas(image);
    overlay(t, truth);
    put(t, k++);
  }
  const p = greyCanvas(image);
  overlay(p, predicted);
  put(p, k);
  return encode(out, W, h);
}
