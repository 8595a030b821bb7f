/**
 * Statistics of the real competition's training data (public metadata of its 5,128 training
 * images: 2,377 authentic, 2,751 forged), the targets `sifd eda` compares a dataset against.
 * Counts, not shares: shares are derived where they are compared.
 */
export const COMPETITION_REFERENCE = {
  forgedImages: 2751,
  authenticImages: 2377,
  /** Forged images by number of events (mask channels). */
  eventCounts: { 1: 1869, 2: 701, 3: 174, 4: 5, 5: 2 } as Record<number, number>,
  /** Forged-area fraction (union of the channels / image pixels) over forged images. */
  areaFraction: { p10: 0.0025, p25: 0.0052, median: 0.021, p75: 0.073, p90: 0.125, max: 0.52 },
  width: { min: 74, median: 696, max: 3888 },
  height: { min: 64, median: 512, max: 3888 },
  megapixels: { p10: 0.066, median: 0.33, p90: 1.92, max: 10.1 },
  /** Images per colour mode and label. */
  modes: {
    forged: { RGB: 1935, RGBA: 647, grey: 169 },
    authentic: { RGB: 1448, RGBA: 787, grey: 142 },
  } as Record<string, Record<string, number>>,
  /** Stems with an authentic and a forged image, forged images without a twin, authentic without one. */
  twins: { pairs: 2377, forgedOnly: 374, authenticOnly: 0 },
  /** Connected parts (8-connected) per event: the source and its copies, 2-5 in the real masks. */
  partsPerEvent: { min: 2, max: 5 },
} as const;
