/**
 * Synthetic scientific copy-move forgery generator: procedural figures (blots, gels,
 * fluorescence, SEM, histology, charts, compound panels), copy-move forgeries with exact instance
 * masks, and a Kaggle-layout dataset writer.
 */
export { generateImage, sampleSize, DEFAULT_SIZES } from './generate';
export type { GenerateImageOptions, GeneratedImage, SizeRange } from './generate';
export { generateDataset, SYNTH_MARKER } from './writer';
export type { GenerateDatasetOptions } from './writer';
export { forge } from './forgery';
export type { ForgeOptions, ForgeResult } from './forgery';
export { renderFamily, pickFamily, FAMILY_WEIGHTS } from './families';
export { FAMILIES } from './manifest';
export type { Box, CopyRecord, CopyTransform, Family, ForgeryRecord, ImageRecord, Manifest, ManifestEntry, Photometric } from './manifest';
