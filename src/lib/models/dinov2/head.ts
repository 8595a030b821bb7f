import * as tf from '@tensorflow/tfjs';
import { geluErf } from '../backbones/vit-dinov2';
import type { ParamStore } from '../params';
import { matmul } from '../segformer/matmul';

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

/**
 * The head's layers start at std 1/sqrt(fan_in) (about PyTorch's nn.Linear scale), not the ViT's
 * 0.02: with 0.02 the head's output is ~100x smaller than its inputs, Adam's first steps grow the
 * biases past it, and after the L2 norm every token has the same embedding, where every loss here
 * has zero gradient (seen on realistic figures: PixelSupCon stuck at log(n - 1)). The last layer has
 * no bias, so no constant direction can swamp the tokens' own.
 */
function linear(p: ParamStore, prefix: string, cin: number, cout: number, bias: boolean): (x: tf.Tensor) => tf.Tensor {
  const w = p.truncNormal(`${prefix}/w`, [cin, cout], 1 / Math.sqrt(cin));
  const b = bias ? p.zeros(`${prefix}/b`, [cout]) : null;
  return (x) =>
    tf.tidy(() => {
      const lead = x.shape.slice(0, -1);
      const y = matmul(x.reshape([-1, cin]), w);
      return (b ? y.add(b) : y).reshape([...lead, cout]);
    });
}

export function makeProjectionHead(p: ParamStore, prefix: string, width: number, size: HeadSize): Head {
  const fc1 = linear(p, `${prefix}/fc1`, width, size.hidden, true);
  const fc2 = linear(p, `${prefix}/fc2`, size.hidden, size.hidden, true);
  const fc3 = linear(p, `${prefix}/fc3`, size.hidden, size.out, false);
  return (tokens) => tf.tidy(() => l2Normalize(fc3(geluErf(fc2(geluErf(fc1(tokens)))))));
}

/** x / ||x|| over the last axis (eps keeps a zero vector finite). */
export function l2Normalize(x: tf.Tensor): tf.Tensor {
  return tf.tidy(() => x.div(x.square().sum(-1, true).add(1e-12).sqrt()));
}
