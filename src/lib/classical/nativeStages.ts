/**
 * The stage computations that read nothing but the grey image at native resolution and the
 * parameters: pure functions of those, so the stage worker (stageWorker.ts) can run them on another
 * core while the main thread runs the other stages, with the same results. stages.ts runs them
 * through StageInput.runNative, which takes the worker's result or computes it in place.
 */
import { denseMatchTransforms } from './denseMatch';
import type { GrayImage } from './grayscale';
import { laneTwinPairs } from './lanes';
import type { ClassicalParams } from './params';

export const NATIVE_STAGES = {
  /** Rotation-invariant dense matching (denseMatch.ts); `scale` is the working frame's factor. */
  dense: (native: GrayImage, p: ClassicalParams, scale: number) => denseMatchTransforms(native, { minDistance: p.minDistance / scale, maxPixels: p.denseMaxPixels }),
  /** Lanes copied within or across a blot's strips (lanes.ts). */
  lanes: (native: GrayImage, p: ClassicalParams) => laneTwinPairs(native, {}, p.minEventEntropy),
} as const;

export type NativeStageName = keyof typeof NATIVE_STAGES;
export type NativeStageResult<K extends NativeStageName> = ReturnType<(typeof NATIVE_STAGES)[K]>;

export function isNativeStage(name: string): name is NativeStageName {
  return Object.prototype.hasOwnProperty.call(NATIVE_STAGES, name);
}
