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

export const FAMILIES = ['western_blot', 'gel', 'fluorescence', 'sem', 'histology', 'chart', 'compound'] as const;
export type Family = (typeof FAMILIES)[number];

/**
 * Geometric mapping from the source region to a copy. The copy is sampled with nearest
 * neighbour from the untouched image, so `translation` and `flip` copies are pixel-exact.
 * params: translation {dx, dy}; flip {axis: 'h'|'v'|'hv', dx, dy}; rotation {degrees};
 * scale {factor}. dx, dy are the shift of the box's top-left corner.
 */
export interface CopyTransform {
  type: 'translation' | 'flip' | 'rotation' | 'scale';
  params: Record<string, number | string>;
}

/** Appearance change applied to the pasted pixels after the geometric transform. */
export interface Photometric {
  type: 'brightness' | 'blur' | 'noise';
  /** brightness {delta} (uint8 levels, 4-20); blur {radius} (box, within the footprint); noise {sigma} (uint8 levels). */
  params: Record<string, number>;
}

export interface CopyRecord {
  /** Bounding box of the pasted footprint. */
  box: Box;
  /** Index of this copy's channel in the (N,H,W) mask. */
  instance: number;
  transform: CopyTransform;
  photometric: Photometric[];
}

export interface ForgeryRecord {
  /** 'region': a region copied elsewhere; 'panel': a crop of one panel reused in another panel. */
  kind: 'region' | 'panel';
  /** Footprint shape of the source region. */
  shape: 'rect' | 'ellipse' | 'blob';
  /** Whether the source was picked on detailed content or on flat background. */
  content: 'textured' | 'flat';
  source: Box;
  /** Index of the source's channel in the (N,H,W) mask. */
  sourceInstance: number;
  copies: CopyRecord[];
}

/** One image as `generateImage` describes it (no id or file yet). */
export interface ImageRecord {
  label: 'authentic' | 'forged';
  family: Family;
  width: number;
  height: number;
  /** Number of mask channels (0 for authentic images). */
  instances: number;
  forgeries: ForgeryRecord[];
}

/** One image in a written dataset: paths are relative to the dataset root, with '/' separators. */
export interface ManifestEntry extends ImageRecord {
  id: string;
  split: 'train' | 'test';
  image: string;
  /** Present for forged images (train_masks/<id>.npy or test_masks/<id>.npy). */
  mask?: string;
}

export interface Manifest {
  generator: 'sifd-synth';
  version: 1;
  seed: number | string;
  n: number;
  forgedRatio: number;
  testFraction: number;
  sizes: { min: number; max: number };
  images: ManifestEntry[];
}
