/**
 * What the synthetic generator records about each image (manifest.json). Boxes are in pixels of
 * the image, top-left origin: x, y of the top-left pixel, w, h in pixels.
 */
export interface Box {
  x: number;
  y: number;
  w: number;
  h: number;
}

export interface SizeRange {
  /** Smallest side in pixels (>= 32). */
  min: number;
  /** Largest side in pixels (<= 4096). */
  max: number;
}

export const FAMILIES = ['western_blot', 'gel', 'fluorescence', 'sem', 'histology', 'chart', 'compound'] as const;
/** A procedural figure family, or 'photo': a real photograph from `--bases` forged the same way. */
export type FigureFamily = (typeof FAMILIES)[number];
export type Family = FigureFamily | 'photo';

/** The generators `sifd synth` offers: 'realistic' (default) imitates real edits; 'classic' is the first one. */
export const GENERATORS = ['realistic', 'classic'] as const;
export type GeneratorName = (typeof GENERATORS)[number];

/** How a figure is stored: the real data mixes these (alpha is always 255). */
export const MODES = ['rgb', 'rgba', 'grey'] as const;
export type ImageMode = (typeof MODES)[number];

/**
 * Geometric mapping from the source region to a copy. `translation` and `flip` copies are
 * pixel-exact (before any re-encoding); rotated and scaled copies are resampled (`CopyRecord.resample`).
 * params: translation {dx, dy}; flip {axis: 'h'|'v'|'hv', dx, dy}; rotation {degrees};
 * scale {factor}. dx, dy are the shift of the box's top-left corner.
 */
export interface CopyTransform {
  type: 'translation' | 'flip' | 'rotation' | 'scale';
  params: Record<string, number | string>;
}

/** Appearance change applied to the pasted pixels after the geometric transform. */
export interface Photometric {
  type: 'brightness' | 'contrast' | 'blur' | 'noise';
  /**
   * brightness {delta} (uint8 levels); contrast {gain} (around the copy's mean); blur {radius}
   * (box, within the footprint); noise {sigma} (uint8 levels).
   */
  params: Record<string, number>;
}

/** Interpolation of a resampled copy: what an image editor does when it turns or scales a selection. */
export type Resample = 'nearest' | 'bilinear' | 'bicubic';

export interface CopyRecord {
  /** Bounding box of the pasted footprint. */
  box: Box;
  transform: CopyTransform;
  /** Interpolation used for rotated/scaled copies; 'nearest' for translations and flips (exact). */
  resample: Resample;
  /** 'soft': the copy's rim is blended with what was there (feathered selection); the mask is the footprint. */
  edge: 'hard' | 'soft';
  photometric: Photometric[];
}

/**
 * One copy-move event: a source region and every copy of it. The event is ONE channel of the
 * (N,H,W) mask (source and copies merged), as in the real competition masks; the record keeps the
 * roles (which part is the source, which the copies, and how each copy was made).
 */
export interface ForgeryRecord {
  /**
   * 'region': a region copied elsewhere; 'panel': a crop of one panel reused in another panel;
   * 'lane': a blot or gel lane (or part of one) pasted over another lane.
   */
  kind: 'region' | 'panel' | 'lane';
  /** Footprint shape of the source region. */
  shape: 'rect' | 'ellipse' | 'blob';
  /** Whether the source was picked on detailed content or on flat background. */
  content: 'textured' | 'flat';
  source: Box;
  /** Index of this event's channel in the (N,H,W) mask. */
  instance: number;
  copies: CopyRecord[];
}

/** What happened to the whole forged figure after the copy-move (a re-saved or resized edit). */
export interface Reencoding {
  type: 'jpeg' | 'resize';
  /** jpeg {quality}; resize {factor}: down by factor and back up, bilinear. */
  params: Record<string, number>;
}

/** One image as `generateImage` describes it (no id or file yet). */
export interface ImageRecord {
  label: 'authentic' | 'forged';
  family: Family;
  width: number;
  height: number;
  /** Number of mask channels = copy-move events (0 for authentic images). */
  instances: number;
  forgeries: ForgeryRecord[];
  /** Storage mode of the written file (realistic generator; 'rgb' for the classic one). */
  mode?: ImageMode;
  /** Forged twin only: the re-encoding applied to the whole figure after the copy-move. */
  reencoding?: Reencoding;
  /** Forged twin only: pixels outside the mask changed by 1-3 levels (twins differ a little everywhere). */
  globalDifferences?: number;
  /** Compound figures: each panel's box (x, y, w, h), the truth classical/panels.ts is measured against. */
  panels?: Box[];
  /** Western blots and gels: each lane's box (per strip for blots), the truth lane matching is measured against. */
  lanes?: Box[];
}

/** One image in a written dataset: paths are relative to the dataset root, with '/' separators. */
export interface ManifestEntry extends ImageRecord {
  /** The file stem: an authentic/forged twin pair shares it (train_images/{authentic,forged}/<id>.png). */
  id: string;
  /** True for both images of a twin pair (the same base figure, authentic and forged). */
  twin: boolean;
  /** Base photograph (relative to `--bases`) for family 'photo'. */
  base?: string;
  split: 'train' | 'test';
  image: string;
  /** Present for forged images (train_masks/<id>.npy or test_masks/<id>.npy). */
  mask?: string;
}

export interface Manifest {
  generator: 'sifd-synth';
  /** 2: one mask channel per event, twins (version 1 wrote one channel per source and per copy). */
  version: 2;
  /** Which forgery generator made the images. */
  style: GeneratorName;
  seed: number | string;
  n: number;
  forgedRatio: number;
  testFraction: number;
  sizes: { min: number; max: number };
  images: ManifestEntry[];
}
