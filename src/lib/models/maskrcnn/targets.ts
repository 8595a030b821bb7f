import { instanceBoxes, splitComponents, unionMask } from '../../data/components';
import type { Masks } from '../../data/types';
import { ConfigError, ModelError, didYouMean } from '../../errors';
import type { ForwardInput } from '../types';

/**
 * Detection targets of one image at the model's input size: a box, label 1 (forged) and a mask per
 * instance. Two policies:
 * - 'events' (default): one instance per copy-move event (source and copies in one mask, its box
 *   around all of them), as sifd's data defines events and decode reports them;
 * - 'contours': the seed's (cv2.findContours RETR_EXTERNAL on the forged foreground + boundingRect,
 *   boxes with w > 5 and h > 5 kept): one instance per connected region of the union of the events.
 * An authentic image has no instance (torchvision trains it as all background).
 */
export type TargetPolicy = 'events' | 'contours';
export const TARGET_POLICIES: readonly TargetPolicy[] = ['events', 'contours'];

export interface ImageTargets {
  boxes: Float32Array;
  labels: Int32Array;
  masks: Masks;
}

/** The seed's minimum contour side: boxes with w > 5 and h > 5 are kept. */
const SEED_MIN_SIDE = 5;

export function checkTargetPolicy(v: unknown): TargetPolicy {
  if (!TARGET_POLICIES.includes(v as TargetPolicy)) throw new ConfigError(`maskrcnn: targets must be one of ${TARGET_POLICIES.join(', ')}, got '${String(v)}'; ${didYouMean(String(v), TARGET_POLICIES)}`);
  return v as TargetPolicy;
}

/** Keep the instances `keep` says, with boxes (x2/y2 exclusive, as the seed's boundingRect gives). */
function select(m: Masks, keep: (box: [number, number, number, number]) => boolean): ImageTargets {
  const plane = m.height * m.width;
  const boxes: number[] = [];
  const kept: Uint8Array[] = [];
  for (let i = 0; i < m.count; i++) {
    const one: Masks = { data: m.data.subarray(i * plane, (i + 1) * plane), count: 1, height: m.height, width: m.width };
    const [box] = instanceBoxes(one);
    if (!box || !keep(box)) continue;
    boxes.push(...box);
    kept.push(one.data);
  }
  const data = new Uint8Array(kept.length * plane);
  kept.forEach((d, i) => data.set(d, i * plane));
  return { boxes: Float32Array.from(boxes), labels: new Int32Array(kept.length).fill(1), masks: { data, count: kept.length, height: m.height, width: m.width } };
}

export function imageTargets(m: Masks, policy: TargetPolicy): ImageTargets {
  if (policy === 'events') return select(m, () => true);
  const union: Masks = { data: unionMask(m), count: 1, height: m.height, width: m.width };
  return select(splitComponents(union), ([x1, y1, x2, y2]) => x2 - x1 > SEED_MIN_SIDE && y2 - y1 > SEED_MIN_SIDE);
}

/** Per-sample targets of a forward input: its event masks, else its foreground as one event. */
export function forwardTargets(input: ForwardInput, policy: TargetPolicy): ImageTargets[] {
  const [b, h, w] = input.images.shape;
  if (input.instances) {
    if (input.instances.length !== b) throw new ModelError(`maskrcnn: ${input.instances.length} instance sets for ${b} images`);
    return input.instances.map((m, i) => {
      if (m.height !== h || m.width !== w) throw new ModelError(`maskrcnn: instances of sample ${i} are ${m.height}x${m.width}, images are ${h}x${w}`);
      return imageTargets(m, policy);
    });
  }
  if (!input.masks) throw new ModelError('maskrcnn: forward with targets needs instances or masks');
  const fg = input.masks.dataSync();
  return Array.from({ length: b }, (_, i) => {
    const data = Uint8Array.from(fg.subarray(i * h * w, (i + 1) * h * w), (v) => (v >= 0.5 ? 1 : 0));
    return imageTargets({ data, count: 1, height: h, width: w }, policy);
  });
}
