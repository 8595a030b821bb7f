/**
 * The stage computations that read nothing but the figure at native resolution (colour and grey)
 * and the parameters: pure functions of those, so the stage worker (stageWorker.ts) can run them on
 * another core while the main thread runs keypoints, blocks and near blocks, with the same results.
 * stages.ts runs them through StageInput.runNative, which takes the worker's result or computes it
 * in place.
 */
import type { Image } from '../data/types';
import { denseMatchTransforms } from './denseMatch';
import { exactTwinRegions, type GrainRule } from './exactRegions';
import { type ExactTwinOptions, exactTwinTransforms, type TwinPairs, twinPairs, twinPairsKey } from './exactTwins';
import type { GrayImage } from './grayscale';
import { laneTwinPairs } from './lanes';
import { periodicBreakRegions } from './periodicBreaks';
import type { ClassicalParams } from './params';

/** What a native-image stage reads: the figure, its grey at native size, the parameters and the working frame's factor. */
export interface NativeInput {
  image: Image;
  native: GrayImage;
  p: ClassicalParams;
  scale: number;
  /** What several stages of one detection read, computed by the first to ask (detectionMemo). */
  memo<T>(key: string, compute: () => T): T;
}

/** A detection's memo (StageInput.memo, NativeInput.memo): one map per detection, so nothing outlives the image it was computed for. */
export function detectionMemo(): <T>(key: string, compute: () => T) => T {
  const values = new Map<string, unknown>();
  return <T>(key: string, compute: () => T): T => {
    if (!values.has(key)) values.set(key, compute());
    return values.get(key) as T;
  };
}

/** The grain an exact region, and a lane pair, must carry (the exactRegion* parameters). */
export function grainRule(p: ClassicalParams): GrainRule {
  return { minGrain: p.exactRegionMinGrain, lowGrain: p.exactRegionLowGrain, grainPixels: p.exactRegionGrainPixels };
}

/** The image's exact-twin pairs under `opts`, computed once per detection (the exact-twin and exact-region stages share them). */
function sharedTwinPairs({ image, memo }: NativeInput, opts: ExactTwinOptions): TwinPairs {
  return memo(twinPairsKey(opts), () => twinPairs(image, opts));
}

export const NATIVE_STAGES = {
  /** Pixel-exact block twins, every block (exactTwins.ts): copies pasted without any change. */
  exact: (input: NativeInput) => {
    const { image, p, scale } = input;
    const opts = { minVotes: p.exactMinVotes, minDistance: p.minDistance / scale };
    return exactTwinTransforms(image, opts, sharedTwinPairs(input, opts));
  },
  /** Rotation-invariant dense matching (denseMatch.ts). */
  dense: ({ native, p, scale }: NativeInput) => denseMatchTransforms(native, { minDistance: p.minDistance / scale, maxPixels: p.denseMaxPixels }),
  /** Small copies pasted unchanged, their grainy exact twin blocks as regions (exactRegions.ts). */
  'exact regions': (input: NativeInput) => {
    const { image, native, p, scale } = input;
    const opts = {
      minVotes: p.exactRegionMinVotes,
      ...grainRule(p),
      minDistance: p.minDistance / scale,
      // the gate's bound on one event: larger is repetitive structure
      maxArea: p.maxEventShare * image.width * image.height,
    };
    return exactTwinRegions(image, native, opts, sharedTwinPairs(input, opts));
  },
  /** Lanes copied within or across a blot's strips (lanes.ts). */
  lanes: ({ native, p }: NativeInput) => laneTwinPairs(native, {}, p.minEventEntropy, grainRule(p)),
  /** Regions that break a figure's exact 2-D periodicity (periodicBreaks.ts). */
  'periodic breaks': ({ native }: NativeInput) => {
    const { map, pairs } = periodicBreakRegions(native);
    return { map, pairs };
  },
} as const;

export type NativeStageName = keyof typeof NATIVE_STAGES;
export type NativeStageResult<K extends NativeStageName> = ReturnType<(typeof NATIVE_STAGES)[K]>;

export function isNativeStage(name: string): name is NativeStageName {
  return Object.prototype.hasOwnProperty.call(NATIVE_STAGES, name);
}
