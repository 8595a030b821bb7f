import * as tf from '@tensorflow/tfjs';
import { matmul } from './matmul';
import { makeLayerNorm, makeLinear, multiHeadAttention } from './ops';
import type { ParamStore } from './params';

/**
 * Query decoder for forged instances (a small Mask2Former/DETR-style head): Q learnable queries
 * attend to the pixel features through a few transformer decoder layers (cross-attention,
 * self-attention, FFN; post-norm); each query then yields a mask (dot product of its embedding
 * with every pixel feature) and an objectness logit ("this query found a forged region").
 */
export interface QueryDecoderConfig {
  dim: number;
  queries: number;
  layers: number;
  heads: number;
}

export interface QueryOutputs {
  /** [B, Q, h, w] mask logits at the pixel features' resolution. */
  maskLogits: tf.Tensor4D;
  /** [B, Q] objectness logits. */
  objectness: tf.Tensor2D;
}

const posCache = new Map<string, Float32Array>();

/** 2D sine positional encoding [h*w, dim] (DETR), so attention knows where a pixel is. */
function sinePositions(h: number, w: number, dim: number): Float32Array {
  const key = `${h}x${w}x${dim}`;
  let pe = posCache.get(key);
  if (!pe) {
    pe = new Float32Array(h * w * dim);
    const quarter = Math.floor(dim / 4);
    for (let y = 0; y < h; y++) {
      for (let x = 0; x < w; x++) {
        const o = (y * w + x) * dim;
        for (let i = 0; i < quarter; i++) {
          const freq = 1 / Math.pow(10000, i / quarter);
          const py = ((y + 0.5) / h) * 2 * Math.PI * freq;
          const px = ((x + 0.5) / w) * 2 * Math.PI * freq;
          pe[o + i] = Math.sin(py);
          pe[o + quarter + i] = Math.cos(py);
          pe[o + 2 * quarter + i] = Math.sin(px);
          pe[o + 3 * quarter + i] = Math.cos(px);
        }
      }
    }
    posCache.set(key, pe);
  }
  return pe;
}

function makeLayer(p: ParamStore, prefix: string, dim: number, heads: number) {
  const lin = (name: string, cin = dim, cout = dim) => makeLinear(p, `${prefix}/${name}`, cin, cout);
  const ca = { q: lin('cross/q'), k: lin('cross/k'), v: lin('cross/v'), o: lin('cross/out') };
  const sa = { q: lin('self/q'), k: lin('self/k'), v: lin('self/v'), o: lin('self/out') };
  const ffn1 = lin('ffn/fc1', dim, 2 * dim);
  const ffn2 = lin('ffn/fc2', 2 * dim, dim);
  const norms = [1, 2, 3].map((i) => makeLayerNorm(p, `${prefix}/norm${i}`, dim, 1e-5));
  /** queries [B,Q,D], queryPos [B,Q,D], memory [B,N,D], memoryPos [1,N,D] -> [B,Q,D]. */
  return (queries: tf.Tensor3D, queryPos: tf.Tensor3D, memory: tf.Tensor3D, memoryPos: tf.Tensor3D): tf.Tensor3D =>
    tf.tidy(() => {
      const cross = multiHeadAttention(
        ca.q(queries.add(queryPos)) as tf.Tensor3D,
        ca.k(memory.add(memoryPos)) as tf.Tensor3D,
        ca.v(memory) as tf.Tensor3D,
        heads,
      );
      let x = norms[0](queries.add(ca.o(cross))) as tf.Tensor3D;
      const qk = x.add(queryPos);
      const self = multiHeadAttention(sa.q(qk) as tf.Tensor3D, sa.k(qk) as tf.Tensor3D, sa.v(x) as tf.Tensor3D, heads);
      x = norms[1](x.add(sa.o(self))) as tf.Tensor3D;
      return norms[2](x.add(ffn2(tf.relu(ffn1(x))))) as tf.Tensor3D;
    });
}

export function makeQueryDecoder(p: ParamStore, prefix: string, cfg: QueryDecoderConfig) {
  const queryFeat = p.truncNormal(`${prefix}/query_feat`, [cfg.queries, cfg.dim], 1);
  const queryPos = p.truncNormal(`${prefix}/query_pos`, [cfg.queries, cfg.dim], 1);
  const layers = Array.from({ length: cfg.layers }, (_, i) => makeLayer(p, `${prefix}/layer${i}`, cfg.dim, cfg.heads));
  const maskEmbed1 = makeLinear(p, `${prefix}/mask_embed/fc1`, cfg.dim, cfg.dim);
  const maskEmbed2 = makeLinear(p, `${prefix}/mask_embed/fc2`, cfg.dim, cfg.dim);
  const objectness = makeLinear(p, `${prefix}/objectness`, cfg.dim, 1);
  /** pixels [B,h,w,D] -> per-query masks [B,Q,h,w] and objectness [B,Q]. */
  return (pixels: tf.Tensor4D): QueryOutputs => {
    const [maskLogits, obj] = tf.tidy((): tf.Tensor[] => {
      const [b, h, w, d] = pixels.shape;
      const memory = pixels.reshape([b, h * w, d]) as tf.Tensor3D; // [B,N,D]
      const memoryPos = tf.tensor3d(sinePositions(h, w, d), [1, h * w, d]);
      const qPos = queryPos.expandDims(0).tile([b, 1, 1]) as tf.Tensor3D; // [B,Q,D]
      let q = queryFeat.expandDims(0).tile([b, 1, 1]) as tf.Tensor3D;
      for (const layer of layers) q = layer(q, qPos, memory, memoryPos);
      const emb = maskEmbed2(tf.relu(maskEmbed1(q))); // [B,Q,D]
      const masks = matmul(emb, memory, false, true).reshape([b, cfg.queries, h, w]) as tf.Tensor4D; // [B,Q,h,w]
      return [masks, objectness(q).reshape([b, cfg.queries])];
    });
    return { maskLogits: maskLogits as tf.Tensor4D, objectness: obj as tf.Tensor2D };
  };
}
