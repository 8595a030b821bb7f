import * as tf from '@tensorflow/tfjs';
import { geluErf } from '../backbones/vit-dinov2';
import type { ParamStore } from '../params';
import { makeLinear } from '../segformer/ops';

/**
 * The projection head: a 3-layer MLP (Linear -> GELU -> Linear -> GELU -> Linear) from the ViT's
 * token width to the metric space, output L2-normalised per token, so similarities are cosines.
 * For ViT-B/14 768 -> 1024 -> 1024 -> 512 as in the reference system; other widths scale with the
 * backbone (hidden 4/3, output 2/3 of its width: S/14 384 -> 512 -> 256, tiny 96 -> 128 -> 64).
 */
export interface HeadSize {
  hidden: number;
  out: number;
}

export function headSize(width: number, hidden: number | null, out: number | null): HeadSize {
  return { hidden: hidden ?? Math.round((width * 4) / 3), out: out ?? Math.round((width * 2) / 3) };
}

export type Head = (tokens: tf.Tensor) => tf.Tensor;

export function makeProjectionHead(p: ParamStore, prefix: string, width: number, size: HeadSize): Head {
  const fc1 = makeLinear(p, `${prefix}/fc1`, width, size.hidden);
  const fc2 = makeLinear(p, `${prefix}/fc2`, size.hidden, size.hidden);
  const fc3 = makeLinear(p, `${prefix}/fc3`, size.hidden, size.out);
  return (tokens) => tf.tidy(() => l2Normalize(fc3(geluErf(fc2(geluErf(fc1(tokens)))))));
}

/** x / ||x|| over the last axis (eps keeps a zero vector finite). */
export function l2Normalize(x: tf.Tensor): tf.Tensor {
  return tf.tidy(() => x.div(x.square().sum(-1, true).add(1e-12).sqrt()));
}
