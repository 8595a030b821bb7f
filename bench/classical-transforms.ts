import { parseArgs } from 'util';
import * as fs from 'fs';
import * as path from 'path';
import { generateImage } from '../src/lib/data/synth/generate';
import { FAMILIES } from '../src/lib/data/synth/manifest';
import { isImageFile, readImage } from '../src/lib/data/image-io';
import type { Image } from '../src/lib/data/types';
import { detectWith } from '../src/lib/classical/detect';
import { prepareHammingKernel } from '../src/lib/classical/hammingKernel';
import { loadOpenCv } from '../src/lib/classical/opencv';
import { resolveParams } from '../src/lib/classical/params';
import type { Affine } from '../src/lib/classical/ransac';
import { Rng } from '../src/lib/util/random';
import { toRgb } from '../src/lib/infer/preprocess';
import { parseParams } from '../src/cli/command';

/**
 * Which copies the classical detector finds, by transform: one textured square of `--side` px per
 * figure, copied once (bilinear, as an editor pastes it, no photometric change) with each transform
 * in turn, into a base figure with nothing copied. Each transform's row counts the figures where
 * some proposal stage put forward the true transform (within 6 px at three points of the source),
 * where one was verified, and where the reported events cover at least 30% of both the copy and its
 * source ('found'); 'falseAlarms' counts the bases themselves with any event. A detection-rate
 * table, not a timing: proposal (keypoints, blocks, dense matching), verification and the gate are
 * told apart, so a change can be read off the stage it moved.
 * `--soften`: every copy is then box-blurred 3x3 within itself, as a forger softens a paste (the
 * realistic generator's blur).
 * Usage: npm run bench -- classical-transforms [--side 64] [--bases DIR] [--figures 2] [--seed 1] [--soften] [--param key=value ...]
 * (default bases: the synthetic families, `--figures` of each; `--bases DIR`: every readable image in
 * DIR, e.g. scikit-image's data folder; unreadable files are listed under `skipped` with the reason).
 */
export const TRANSFORMS: readonly { name: string; kind: 'translation' | 'flip' | 'rotation' | 'scale'; value: number }[] = [
  { name: 'translation', kind: 'translation', value: 0 },
  { name: 'flip', kind: 'flip', value: 0 },
  { name: 'rotation 20', kind: 'rotation', value: 20 },
  { name: 'rotation 45', kind: 'rotation', value: 45 },
  { name: 'rotation 90', kind: 'rotation', value: 90 },
  { name: 'scale 0.85', kind: 'scale', value: 0.85 },
  { name: 'scale 1.15', kind: 'scale', value: 1.15 },
  { name: 'scale 1.3', kind: 'scale', value: 1.3 },
];

interface Placed {
  image: Image;
  copy: Uint8Array;
  source: Uint8Array;
  /** source -> copy */
  forward: Affine;
  /** Three points of the source (centre and two off it), to test a proposal against. */
  probes: [number, number][];
}

/** The map source -> copy: about the source's centre s, (mirror,) turn and scale, then to the copy's centre d. */
function copyAffine(kind: string, value: number, s: [number, number], d: [number, number]): Affine {
  const f = kind === 'scale' ? value : 1;
  const th = kind === 'rotation' ? (value * Math.PI) / 180 : 0;
  const m = kind === 'flip' ? -1 : 1;
  const a = f * Math.cos(th) * m;
  const b = -f * Math.sin(th);
  const c = f * Math.sin(th) * m;
  const e = f * Math.cos(th);
  return [a, b, d[0] - a * s[0] - b * s[1], c, e, d[1] - c * s[0] - e * s[1]];
}

/** Grey-level spread of a square (every other pixel of the green channel): a textured source is wanted. */
function spread(img: Image, x: number, y: number, n: number): number {
  let s = 0;
  let s2 = 0;
  let k = 0;
  for (let yy = y; yy < y + n; yy += 2) {
    for (let xx = x; xx < x + n; xx += 2) {
      const v = img.data[(yy * img.width + xx) * 3 + 1];
      s += v;
      s2 += v * v;
      k++;
    }
  }
  return s2 / k - (s / k) ** 2;
}

/** Copies the most textured of 30 random n x n squares by the transform to a free place at least 20 px away; null when none fits. */
export function placeCopy(rng: Rng, base: Image, kind: string, value: number, n: number): Placed | null {
  const { width: W, height: H } = base;
  const f = kind === 'scale' ? value : 1;
  const th = kind === 'rotation' ? (value * Math.PI) / 180 : 0;
  const m = Math.ceil(n * f * (Math.abs(Math.cos(th)) + Math.abs(Math.sin(th))));
  if (W < n + m + 24 && H < n + m + 24) return null;
  let src = { x: 0, y: 0, v: -1 };
  for (let t = 0; t < 30; t++) {
    const x = rng.int(0, W - n);
    const y = rng.int(0, H - n);
    const v = spread(base, x, y, n);
    if (v > src.v) src = { x, y, v };
  }
  for (let t = 0; t < 200; t++) {
    const dx = rng.int(0, W - m);
    const dy = rng.int(0, H - m);
    const apart = dx > src.x + n + 20 || dx + m + 20 < src.x || dy > src.y + n + 20 || dy + m + 20 < src.y;
    if (!apart) continue;
    const s: [number, number] = [src.x + n / 2 - 0.5, src.y + n / 2 - 0.5];
    const d: [number, number] = [dx + m / 2 - 0.5, dy + m / 2 - 0.5];
    const fwd = copyAffine(kind, value, s, d);
    return { ...paste(base, fwd, src.x, src.y, n, dx, dy, m), forward: fwd, probes: [s, [s[0] + n / 3, s[1]], [s[0], s[1] + n / 3]] };
  }
  return null;
}

/** Every pixel of the m x m box at (dx, dy) whose preimage under `fwd` lies in the source square takes the source's colour there (bilinear). */
function paste(base: Image, fwd: Affine, sx: number, sy: number, n: number, dx: number, dy: number, m: number): { image: Image; copy: Uint8Array; source: Uint8Array } {
  const { width: W, height: H, data } = base;
  const out = new Uint8Array(data);
  const copy = new Uint8Array(W * H);
  const source = new Uint8Array(W * H);
  for (let y = sy; y < sy + n; y++) source.fill(1, y * W + sx, y * W + sx + n);
  const det = fwd[0] * fwd[4] - fwd[1] * fwd[3];
  const inv = [fwd[4] / det, -fwd[1] / det, -fwd[3] / det, fwd[0] / det];
  for (let y = dy; y < dy + m; y++) {
    for (let x = dx; x < dx + m; x++) {
      const u = x - fwd[2];
      const v = y - fwd[5];
      const qx = inv[0] * u + inv[1] * v;
      const qy = inv[2] * u + inv[3] * v;
      if (qx < sx || qy < sy || qx > sx + n - 1 || qy > sy + n - 1) continue;
      copy[y * W + x] = 1;
      const x0 = Math.min(Math.floor(qx), W - 2);
      const y0 = Math.min(Math.floor(qy), H - 2);
      const fx = qx - x0;
      const fy = qy - y0;
      for (let c = 0; c < 3; c++) {
        const at = (xx: number, yy: number) => data[(yy * W + xx) * 3 + c];
        const top = at(x0, y0) + fx * (at(x0 + 1, y0) - at(x0, y0));
        const bottom = at(x0, y0 + 1) + fx * (at(x0 + 1, y0 + 1) - at(x0, y0 + 1));
        out[(y * W + x) * 3 + c] = Math.round(top + fy * (bottom - top));
      }
    }
  }
  return { image: { ...base, data: out }, copy, source };
}

/** 3x3 box blur of the pixels of `region` (0/1 over the frame), averaging only region pixels, in place. */
export function softenWithin(img: Image, region: Uint8Array): void {
  const { width: W, height: H, data } = img;
  const src = Uint8Array.from(data);
  for (let y = 0; y < H; y++) {
    for (let x = 0; x < W; x++) {
      if (!region[y * W + x]) continue;
      for (let c = 0; c < 3; c++) {
        let sum = 0;
        let n = 0;
        for (let yy = Math.max(0, y - 1); yy <= Math.min(H - 1, y + 1); yy++) {
          for (let xx = Math.max(0, x - 1); xx <= Math.min(W - 1, x + 1); xx++) {
            if (!region[yy * W + xx]) continue;
            sum += src[(yy * W + xx) * 3 + c];
            n++;
          }
        }
        data[(y * W + x) * 3 + c] = Math.round(sum / n);
      }
    }
  }
}

/** Does affine `a` (either direction) move the source's probe points onto the copy's, within `tol` px? */
export function sameCopy(a: Affine, fwd: Affine, probes: readonly [number, number][], tol = 6): boolean {
  const ap = (t: Affine, x: number, y: number): [number, number] => [t[0] * x + t[1] * y + t[2], t[3] * x + t[4] * y + t[5]];
  const forward = probes.every(([x, y]) => {
    const [px, py] = ap(a, x, y);
    const [tx, ty] = ap(fwd, x, y);
    return Math.hypot(px - tx, py - ty) < tol;
  });
  const backward = probes.every(([x, y]) => {
    const [tx, ty] = ap(fwd, x, y);
    const [px, py] = ap(a, tx, ty);
    return Math.hypot(px - x, py - y) < tol;
  });
  return forward || backward;
}

/** Share of `region`'s pixels inside one event of `masks` (the best). */
function covered(masks: { data: Uint8Array; count: number }, region: Uint8Array): number {
  const n = region.length;
  let area = 0;
  for (let p = 0; p < n; p++) area += region[p];
  let best = 0;
  for (let k = 0; k < masks.count; k++) {
    let hit = 0;
    for (let p = 0; p < n; p++) hit += region[p] & masks.data[k * n + p];
    best = Math.max(best, hit / Math.max(1, area));
  }
  return best;
}

export async function run(argv: string[]): Promise<object> {
  const { values } = parseArgs({
    args: argv,
    options: { side: { type: 'string' }, bases: { type: 'string' }, figures: { type: 'string' }, seed: { type: 'string' }, soften: { type: 'boolean' }, param: { type: 'string', multiple: true } },
    strict: true,
  });
  const side = Number(values.side ?? 64);
  const figures = Number(values.figures ?? 2);
  if (!Number.isInteger(side) || side < 8) throw new Error(`--side must be an integer >= 8, got ${values.side}`);
  if (!Number.isInteger(figures) || figures < 1) throw new Error(`--figures must be a positive integer, got ${values.figures}`);
  // the syntax of sifd predict --param
  const overrides = parseParams(values.param ?? []);
  const params = resolveParams({ stageWorker: false, ...overrides });
  const cv = await loadOpenCv();
  await prepareHammingKernel();
  const rng = new Rng(`bench-classical-transforms-${values.seed ?? 1}`);
  const bases: { name: string; image: Image }[] = [];
  const skipped: string[] = [];
  if (values.bases !== undefined) {
    if (!fs.existsSync(values.bases) || !fs.statSync(values.bases).isDirectory()) throw new Error(`--bases ${values.bases}: not a folder`);
    for (const file of fs.readdirSync(values.bases).sort()) {
      if (!isImageFile(file)) continue;
      try {
        bases.push({ name: file, image: toRgb(await readImage(path.join(values.bases, file))) });
      } catch (err) {
        skipped.push(`${file}: ${err instanceof Error ? err.message : String(err)}`);
      }
    }
    if (bases.length === 0) throw new Error(`--bases ${values.bases}: no readable image (${skipped.length} skipped)`);
  } else {
    for (const family of FAMILIES) {
      for (let k = 0; k < figures; k++) bases.push({ name: `${family} ${k}`, image: toRgb(generateImage(rng.fork(), { family, forged: false, width: 512, height: 512 }).image) });
    }
  }
  let falseAlarms = 0;
  const rows = TRANSFORMS.map((t) => ({ transform: t.name, figures: 0, proposed: 0, verified: 0, found: 0, byStage: {} as Record<string, number> }));
  for (const base of bases) {
    if (detectWith(cv, base.image, params).instances.count > 0) falseAlarms++;
    TRANSFORMS.forEach((t, i) => {
      const placed = placeCopy(rng, base.image, t.kind, t.value, side);
      if (!placed) return;
      if (values.soften) softenWithin(placed.image, placed.copy);
      const r = detectWith(cv, placed.image, params);
      const hits = r.debug.candidates.filter((c) => sameCopy(c.affine, placed.forward, placed.probes));
      const row = rows[i];
      row.figures++;
      if (hits.length > 0) row.proposed++;
      if (hits.some((c) => c.accepted)) row.verified++;
      for (const stage of new Set(hits.map((c) => c.stage ?? '?'))) row.byStage[stage] = (row.byStage[stage] ?? 0) + 1;
      if (Math.min(covered(r.instances, placed.copy), covered(r.instances, placed.source)) >= 0.3) row.found++;
    });
  }
  return {
    bench: 'classical-transforms',
    side,
    softened: values.soften === true,
    bases: values.bases === undefined ? `synthetic families x ${figures} (512x512)` : `${bases.length} images of ${path.basename(values.bases)}`,
    skipped,
    params: overrides,
    falseAlarms: `${falseAlarms} of ${bases.length} bases`,
    transforms: rows,
  };
}
