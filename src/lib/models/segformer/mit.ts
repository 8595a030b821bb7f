import * as tf from '@tensorflow/tfjs';
import { ConfigError, didYouMean } from '../../errors';
import { gelu, makeConv2d, makeDepthwise3x3, makeLayerNorm, makeLinear, multiHeadAttention } from './ops';
import type { ParamStore } from './params';

/**
 * Mix Transformer (MiT) encoder of SegFormer (Xie et al. 2021): four stages, each an overlapping
 * patch embedding (conv 7/3/3/3, strides 4/2/2/2) followed by transformer blocks with efficient
 * self-attention (keys/values spatially reduced by 8/4/2/1) and a Mix-FFN (3x3 depthwise conv
 * between the two linears), and a LayerNorm per stage.
 */
export interface MitConfig {
  embedDims: [number, number, number, number];
  depths: [number, number, number, number];
  heads: [number, number, number, number];
  srRatios: [number, number, number, number];
  mlpRatio: number;
}

const SHARED = { heads: [1, 2, 5, 8], srRatios: [8, 4, 2, 1], mlpRatio: 4 } as const;

/** Published variants (HF `nvidia/mit-b0`..`b5`); encoder parameter counts b0 3.3M, b1 13.2M, b2 24.2M, b3 44.1M, b4 60.8M, b5 81.4M. */
export const MIT_VARIANTS: Record<string, MitConfig> = {
  b0: { embedDims: [32, 64, 160, 256], depths: [2, 2, 2, 2], heads: [1, 2, 5, 8], srRatios: [8, 4, 2, 1], mlpRatio: 4 },
  b1: { embedDims: [64, 128, 320, 512], depths: [2, 2, 2, 2], heads: [1, 2, 5, 8], srRatios: [8, 4, 2, 1], mlpRatio: 4 },
  b2: { embedDims: [64, 128, 320, 512], depths: [3, 4, 6, 3], heads: [1, 2, 5, 8], srRatios: [8, 4, 2, 1], mlpRatio: 4 },
  b3: { embedDims: [64, 128, 320, 512], depths: [3, 4, 18, 3], heads: [1, 2, 5, 8], srRatios: [8, 4, 2, 1], mlpRatio: 4 },
  b4: { embedDims: [64, 128, 320, 512], depths: [3, 8, 27, 3], heads: [1, 2, 5, 8], srRatios: [8, 4, 2, 1], mlpRatio: 4 },
  b5: { embedDims: [64, 128, 320, 512], depths: [3, 6, 40, 3], heads: [1, 2, 5, 8], srRatios: [8, 4, 2, 1], mlpRatio: 4 },
  /** A reduced b0 for fast tests and overfitting checks (not a published variant). */
  tiny: { embedDims: [16, 32, 64, 128], depths: [1, 1, 1, 1], heads: [1, 1, 2, 4], srRatios: [8, 4, 2, 1], mlpRatio: 2 },
};

export function mitConfig(variant: string): MitConfig {
  const c = MIT_VARIANTS[variant];
  if (!c) throw new ConfigError(`unknown MiT variant '${variant}': ${didYouMean(variant, Object.keys(MIT_VARIANTS))}`);
  return c;
}

/** Every MiT LayerNorm uses PyTorch's default eps, as HF's SegformerModel does (so imported weights compute the same). */
const MIT_LN_EPS = 1e-5;

const PATCH = [
  { kernel: 7, stride: 4 },
  { kernel: 3, stride: 2 },
  { kernel: 3, stride: 2 },
  { kernel: 3, stride: 2 },
];

/** Tokens [B, H*W, C] with their spatial size. */
interface Tokens {
  x: tf.Tensor3D;
  h: number;
  w: number;
}

function makeAttention(p: ParamStore, prefix: string, dim: number, heads: number, sr: number) {
  const q = makeLinear(p, `${prefix}/q`, dim, dim);
  const kv = makeLinear(p, `${prefix}/kv`, dim, 2 * dim);
  const proj = makeLinear(p, `${prefix}/proj`, dim, dim);
  const srConv = sr > 1 ? makeConv2d(p, `${prefix}/sr`, dim, dim, sr, sr, 'valid') : null;
  const srNorm = sr > 1 ? makeLayerNorm(p, `${prefix}/sr_norm`, dim, MIT_LN_EPS) : null;
  return (t: Tokens): tf.Tensor3D =>
    tf.tidy(() => {
      const [b] = t.x.shape;
      let src: tf.Tensor3D = t.x;
      if (srConv && srNorm) {
        // Spatial reduction: [B,H,W,C] -> [B,H/sr,W/sr,C] -> [B,M,C]; attention cost N*M not N^2.
        const reduced = srConv(t.x.reshape([b, t.h, t.w, dim]) as tf.Tensor4D);
        src = srNorm(reduced.reshape([b, -1, dim])) as tf.Tensor3D;
      }
      const kvOut = kv(src); // [B,M,2C]
      const [k, v] = tf.split(kvOut, 2, -1) as [tf.Tensor3D, tf.Tensor3D];
      const out = multiHeadAttention(q(t.x) as tf.Tensor3D, k, v, heads);
      return proj(out) as tf.Tensor3D;
    });
}

function makeMixFfn(p: ParamStore, prefix: string, dim: number, hidden: number) {
  const fc1 = makeLinear(p, `${prefix}/fc1`, dim, hidden);
  const dw = makeDepthwise3x3(p, `${prefix}/dwconv`, hidden);
  const fc2 = makeLinear(p, `${prefix}/fc2`, hidden, dim);
  return (t: Tokens): tf.Tensor3D =>
    tf.tidy(() => {
      const [b] = t.x.shape;
      const h = fc1(t.x).reshape([b, t.h, t.w, hidden]) as tf.Tensor4D; // [B,H,W,hidden]
      const mixed = dw(h).reshape([b, t.h * t.w, hidden]);
      return fc2(gelu(mixed)) as tf.Tensor3D;
    });
}

function makeBlock(p: ParamStore, prefix: string, dim: number, heads: number, sr: number, mlpRatio: number) {
  const norm1 = makeLayerNorm(p, `${prefix}/norm1`, dim, MIT_LN_EPS);
  const attn = makeAttention(p, `${prefix}/attn`, dim, heads, sr);
  const norm2 = makeLayerNorm(p, `${prefix}/norm2`, dim, MIT_LN_EPS);
  const ffn = makeMixFfn(p, `${prefix}/ffn`, dim, dim * mlpRatio);
  return (t: Tokens): tf.Tensor3D =>
    tf.tidy(() => {
      const x1 = t.x.add(attn({ x: norm1(t.x) as tf.Tensor3D, h: t.h, w: t.w })) as tf.Tensor3D;
      return x1.add(ffn({ x: norm2(x1) as tf.Tensor3D, h: t.h, w: t.w })) as tf.Tensor3D;
    });
}

/**
 * Builds the encoder's weights under `prefix` and returns its forward function:
 * images [B,H,W,Cin] -> four feature maps [B,H/4,W/4,C1], [B,H/8,W/8,C2], [B,H/16,W/16,C3], [B,H/32,W/32,C4].
 */
export function makeMitEncoder(p: ParamStore, prefix: string, cfg: MitConfig, inChannels = 3) {
  const stages = cfg.embedDims.map((dim, i) => {
    const s = `${prefix}/stage${i + 1}`;
    const cin = i === 0 ? inChannels : cfg.embedDims[i - 1];
    const embed = makeConv2d(p, `${s}/patch_embed/proj`, cin, dim, PATCH[i].kernel, PATCH[i].stride);
    const embedNorm = makeLayerNorm(p, `${s}/patch_embed/norm`, dim, MIT_LN_EPS);
    const blocks = Array.from({ length: cfg.depths[i] }, (_, j) =>
      makeBlock(p, `${s}/block${j}`, dim, cfg.heads[i], cfg.srRatios[i], cfg.mlpRatio),
    );
    const norm = makeLayerNorm(p, `${s}/norm`, dim, MIT_LN_EPS);
    return { dim, embed, embedNorm, blocks, norm };
  });
  return (images: tf.Tensor4D): tf.Tensor4D[] => {
    const features: tf.Tensor4D[] = [];
    let x = images;
    for (const st of stages) {
      const next = tf.tidy(() => {
        const e = st.embed(x); // [B,h,w,C]
        const [b, h, w] = e.shape;
        let tokens = st.embedNorm(e.reshape([b, h * w, st.dim])) as tf.Tensor3D;
        for (const block of st.blocks) tokens = block({ x: tokens, h, w });
        return st.norm(tokens).reshape([b, h, w, st.dim]) as tf.Tensor4D;
      });
      features.push(next);
      x = next;
    }
    return features;
  };
}
