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
  id: string;
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

export function maskChannel(m: Masks, i: number): Uint8Array {
  const n = m.height * m.width;
  return m.data.subarray(i * n, (i + 1) * n);
}
