/**
 * In-memory image, HWC interleaved. RGB uint8 by default; 16-bit data is kept (Uint16Array) only
 * when the caller asks for it.
 */
export interface Image {
  data: Uint8Array | Uint16Array;
  width: number;
  height: number;
  channels: number;
}

/** Instance masks, instance-first (N,H,W), values 0/1. */
export interface Masks {
  data: Uint8Array;
  count: number;
  height: number;
  width: number;
}

export type Split = 'train' | 'supplemental' | 'test';
export type Label = 'authentic' | 'forged' | 'unknown';

export interface Sample {
  /**
   * Unique within a scan: the file stem, except for authentic/forged twins (the same stem under
   * both label folders of a split), which are 'authentic/<stem>' and 'forged/<stem>'.
   */
  id: string;
  /** The file stem (scans always set it; `id` when absent): twins share it, and every split keeps a stem's images on one side. */
  stem?: string;
  split: Split;
  label: Label;
  imagePath: string;
  /** Absent for authentic and test images. */
  maskPath?: string;
}

/** A problem found while scanning; the scan goes on. */
export interface Problem {
  file: string;
  kind: string;
  reason: string;
}

/** The twin key of a sample: its file stem. */
export function stemOf(s: Sample): string {
  return s.stem ?? s.id;
}

export function maskChannel(m: Masks, i: number): Uint8Array {
  const n = m.height * m.width;
  return m.data.subarray(i * n, (i + 1) * n);
}
