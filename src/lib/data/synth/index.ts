/**
 * Synthetic scientific copy-move forgery generator: procedural figures (blots, gels,
 * fluorescence, SEM, histology, charts, compound panels), copy-move forgeries with exact instance
 * masks, and a Kaggle-layout dataset writer.
 */
export { generateImage, sampleSize, DEFAULT_SIZES, REALISTIC_SIZES } from './generate';
export { realisticSize, realisticAreaFraction, realisticMode, quantileDraw, MEGAPIXEL_KNOTS, AREA_FRACTION_KNOTS, MODE_COUNTS, COMMON_SIZES } from './realism';
export type { GenerateImageOptions, GeneratedImage, SizeRange } from './generate';
export { generateDataset, SYNTH_MARKER } from './writer';
export type { GenerateDatasetOptions } from './writer';
export { forge, FORGE_STYLES } from './forgery';
export type { ForgeOptions, ForgeResult } from './forgery';
export { renderFamily, pickFamily, FAMILY_WEIGHTS } from './families';
export { FAMILIES, GENERATORS, MODES } from './manifest';
export type { Box, CopyRecord, CopyTransform, Family, FigureFamily, GeneratorName, ImageMode, Reencoding, Resample, ForgeryRecord, ImageRecord, Manifest, ManifestEntry, Photometric } from './manifest';
export { firstFigures, notebookSet, NOTEBOOK_SETS, NOTEBOOK_SET_SIZES } from './notebook-sets';
export type { NotebookSetRole } from './notebook-sets';
