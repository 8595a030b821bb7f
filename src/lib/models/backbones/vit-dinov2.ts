import * as tf from '@tensorflow/tfjs';
import { ConfigError, ModelError, didYouMean } from '../../errors';
import { ParamStore } from '../params';
import type { Rng } from '../../util/random';
import { makeLayerNorm, makeLinear, multiHeadAttention } from '../segformer/ops';
import { matmul } from '../segformer/matmul';
import { bicubicAntialiasMatrix, bicubicMatrix } from './bicubic';

/**
 * The DINOv2 vision transformer as HF transformers' `Dinov2Model` computes it (Oquab et al. 2023):
 * a 14x14/14 patch-embedding conv, a CLS token, learned position embeddings for the pre-training
 * grid (37x37 at 518 px) resampled bicubically to the input's grid exactly as
 * `Dinov2Embeddings.interpolate_pos_encoding` does, pre-norm blocks (LayerNorm eps 1e-6, multi-head
 * attention, LayerScale, exact-erf GELU MLP of 4x width, LayerScale), and a final LayerNorm.
 * Parameters are named after HF's state dict (embeddings/..., encoder/layer/N/..., layernorm/...).
 * No dropout and no stochastic depth: HF's defaults are 0 for both.
 */
export interface Dinov2Config {
  hiddenSize: number;
  layers: number;
  heads: number;
  mlpRatio: number;
  patchSize: number;
  /** The pre-training image size: the position embeddings cover (imageSize / patchSize)^2 patches. */
  imageSize: number;
  layerNormEps: number;
  /** Initial LayerScale (HF `layerscale_value`). */
  layerscaleValue: number;
  inChannels: number;
  /**
   * Register tokens (Darcet et al. 2024; HF `Dinov2WithRegistersModel`, hub `facebook/dinov2-with-registers-*`):
   * learned tokens after the CLS token, without position embeddings; that model also resamples the
   * position table with antialiasing. 0: plain `Dinov2Model`.
   */
  registers: number;
}

const BASE = { mlpRatio: 4, patchSize: 14, imageSize: 518, layerNormEps: 1e-6, layerscaleValue: 1, inChannels: 3, registers: 0 };

/**
 * HF hub `facebook/dinov2-small` (s14), `facebook/dinov2-base` (b14), `facebook/dinov2-with-registers-small`
 * and `-base` (s14-reg, b14-reg); `tiny` for CPU training from scratch.
 */
export const DINOV2_VARIANTS: Record<string, Dinov2Config> = {
  s14: { ...BASE, hiddenSize: 384, layers: 12, heads: 6 },
  b14: { ...BASE, hiddenSize: 768, layers: 12, heads: 12 },
  's14-reg': { ...BASE, hiddenSize: 384, layers: 12, heads: 6, registers: 4 },
  'b14-reg': { ...BASE, hiddenSize: 768, layers: 12, heads: 12, registers: 4 },
  tiny: { ...BASE, hiddenSize: 96, layers: 4, heads: 3, imageSize: 224 },
};

export function dinov2Config(variant: string, overrides: Partial<Dinov2Config> = {}): Dinov2Config {
  const c = DINOV2_VARIANTS[variant];
  if (!c) throw new ConfigError(`unknown DINOv2 variant '${variant}': ${didYouMean(variant, Object.keys(DINOV2_VARIANTS))}`);
  return { ...c, ...overrides };
}

export interface Dinov2Output {
  /** [B, 1 + registers + h*w, C] after the final LayerNorm (HF `last_hidden_state`). */
  lastHiddenState: tf.Tensor3D;
  /** [B, h, w, C]: the patch tokens of `lastHiddenState` on their grid (dense features). */
  patchTokens: tf.Tensor4D;
  /** [B, C]: the CLS token of `lastHiddenState` (HF `pooler_output`). */
  cls: tf.Tensor2D;
  /** With `hiddenStates`: the embeddings and each layer's output before the final norm (HF `hidden_states`). */
  hiddenStates?: tf.Tensor3D[];
}

/** Exact GELU (erf), torch.nn.functional.gelu's default, which HF's `hidden_act: 'gelu'` is. */
export function geluErf(x: tf.Tensor): tf.Tensor {
  return tf.tidy(() => x.mul(tf.erf(x.mul(Math.SQRT1_2)).add(1)).mul(0.5));
}

function makeLayer(p: ParamStore, prefix: string, cfg: Dinov2Config) {
  const c = cfg.hiddenSize;
  const hidden = Math.floor(c * cfg.mlpRatio);
  const norm1 = makeLayerNorm(p, `${prefix}/norm1`, c, cfg.layerNormEps);
  const q = makeLinear(p, `${prefix}/attention/q_proj`, c, c);
  const k = makeLinear(p, `${prefix}/attention/k_proj`, c, c);
  const v = makeLinear(p, `${prefix}/attention/v_proj`, c, c);
  const o = makeLinear(p, `${prefix}/attention/o_proj`, c, c);
  const scale1 = p.constant(`${prefix}/layer_scale1/lambda1`, [c], cfg.layerscaleValue);
  const norm2 = makeLayerNorm(p, `${prefix}/norm2`, c, cfg.layerNormEps);
  const fc1 = makeLinear(p, `${prefix}/mlp/fc1`, c, hidden);
  const fc2 = makeLinear(p, `${prefix}/mlp/fc2`, hidden, c);
  const scale2 = p.constant(`${prefix}/layer_scale2/lambda1`, [c], cfg.layerscaleValue);
  return (x: tf.Tensor3D): tf.Tensor3D =>
    tf.tidy(() => {
      const n = norm1(x);
      const attn = o(multiHeadAttention(q(n) as tf.Tensor3D, k(n) as tf.Tensor3D, v(n) as tf.Tensor3D, cfg.heads));
      const h = x.add(attn.mul(scale1));
      return h.add(fc2(geluErf(fc1(norm2(h)))).mul(scale2)) as tf.Tensor3D;
    });
}

export class Dinov2 {
  readonly config: Dinov2Config;
  /** Side of the position-embedding grid (imageSize / patchSize). */
  readonly grid: number;
  private readonly patchW: tf.Variable;
  private readonly patchB: tf.Variable;
  private readonly cls: tf.Variable;
  private readonly pos: tf.Variable;
  private readonly registers: tf.Variable | null;
  private readonly layers: ((x: tf.Tensor3D) => tf.Tensor3D)[];
  private readonly norm: (x: tf.Tensor) => tf.Tensor;

  constructor(readonly store: ParamStore, readonly prefix: string, config: Dinov2Config) {
    const cfg = config;
    if (cfg.hiddenSize % cfg.heads !== 0) throw new ConfigError(`DINOv2 hiddenSize ${cfg.hiddenSize} is not a multiple of heads ${cfg.heads}`);
    this.config = cfg;
    this.grid = Math.floor(cfg.imageSize / cfg.patchSize);
    const c = cfg.hiddenSize;
    const e = `${prefix}/embeddings`;
    const k = cfg.patchSize;
    this.patchW = store.convKernel(`${e}/patch_embeddings/projection/w`, [k, k, cfg.inChannels, c], k * k * c);
    this.patchB = store.zeros(`${e}/patch_embeddings/projection/b`, [c]);
    this.cls = store.truncNormal(`${e}/cls_token`, [1, 1, c], 0.02);
    this.pos = store.truncNormal(`${e}/position_embeddings`, [1, this.grid * this.grid + 1, c], 0.02);
    this.registers = cfg.registers > 0 ? store.zeros(`${e}/register_tokens`, [1, cfg.registers, c]) : null;
    this.layers = Array.from({ length: cfg.layers }, (_, i) => makeLayer(store, `${prefix}/encoder/layer/${i}`, cfg));
    this.norm = makeLayerNorm(store, `${prefix}/layernorm`, c, cfg.layerNormEps);
  }

  static create(config: Dinov2Config, rng: Rng): Dinov2 {
    return new Dinov2(new ParamStore(rng), 'backbone', config);
  }

  /**
   * Position embeddings for an h x w patch grid from an input of height x width pixels: [1, 1 + h*w, C].
   * HF returns them unchanged only when the patch count equals the table's and the input is square;
   * otherwise the table's grid is resampled bicubically (align_corners false, A = -0.75, edges clamped;
   * with registers, antialiased as Dinov2WithRegistersModel does).
   */
  positionEmbeddings(h: number, w: number, height: number, width: number): tf.Tensor3D {
    const g = this.grid;
    if (h * w === g * g && height === width) return tf.clone(this.pos) as tf.Tensor3D;
    return tf.tidy(() => {
      const c = this.config.hiddenSize;
      const [clsPos, patchPos] = tf.split(this.pos, [1, g * g], 1);
      const resample = this.registers ? bicubicAntialiasMatrix : bicubicMatrix;
      const rows = matmul(tf.tensor2d(resample(g, h), [h, g]), patchPos.reshape([g, g * c])); // [h, g*C]
      const cols = rows.reshape([h, g, c]).transpose([1, 0, 2]).reshape([g, h * c]);
      const grid = matmul(tf.tensor2d(resample(g, w), [w, g]), cols); // [w, h*C]
      const patches = grid.reshape([w, h, c]).transpose([1, 0, 2]).reshape([1, h * w, c]);
      return tf.concat([clsPos, patches], 1) as tf.Tensor3D;
    });
  }

  /** HF `Dinov2Embeddings`: CLS and patch tokens plus (interpolated) position embeddings; registers after the CLS token. */
  embed(images: tf.Tensor4D): tf.Tensor3D {
    const [b, height, width, ch] = images.shape;
    const k = this.config.patchSize;
    if (ch !== this.config.inChannels) throw new ModelError(`DINOv2 expects ${this.config.inChannels} input channels, got ${ch}`);
    if (height < k || width < k) throw new ModelError(`DINOv2 needs inputs of at least ${k}x${k} pixels, got ${height}x${width}`);
    return tf.tidy(() => {
      // stride = kernel = patch: 'valid' drops a partial last row/column exactly as PyTorch's conv does
      const patches = tf.conv2d(images, this.patchW as tf.Tensor4D, k, 'valid').add(this.patchB); // [B,h,w,C]
      const [, h, w, c] = patches.shape;
      const tokens = tf.concat([tf.tile(this.cls, [b, 1, 1]), patches.reshape([b, h * w, c])], 1);
      const positioned = tokens.add(this.positionEmbeddings(h, w, height, width)) as tf.Tensor3D;
      if (!this.registers) return positioned;
      const [cls, rest] = tf.split(positioned, [1, h * w], 1);
      return tf.concat([cls, tf.tile(this.registers, [b, 1, 1]), rest], 1) as tf.Tensor3D;
    });
  }

  /**
   * images [B,H,W,Cin], ImageNet-normalised (augment/normalize.ts IMAGENET_MEAN/STD, as HF's processor)
   * -> the last hidden state, its patch grid and CLS token. Caller disposes.
   */
  forward(images: tf.Tensor4D, opts: { hiddenStates?: boolean } = {}): Dinov2Output {
    const k = this.config.patchSize;
    const h = Math.floor(images.shape[1] / k);
    const w = Math.floor(images.shape[2] / k);
    return tf.tidy(() => {
      let x = this.embed(images);
      const states: tf.Tensor3D[] = [x];
      for (const layer of this.layers) {
        x = layer(x);
        states.push(x);
      }
      const last = this.norm(x) as tf.Tensor3D;
      const [b, , c] = last.shape;
      const first = 1 + this.config.registers;
      const out: Dinov2Output = {
        lastHiddenState: last,
        patchTokens: last.slice([0, first, 0], [b, h * w, c]).reshape([b, h, w, c]) as tf.Tensor4D,
        cls: last.slice([0, 0, 0], [b, 1, c]).reshape([b, c]) as tf.Tensor2D,
      };
      if (opts.hiddenStates) out.hiddenStates = states;
      // tf.tidy keeps tensors found in a returned object's values, arrays included
      return out as unknown as tf.TensorContainer;
    }) as unknown as Dinov2Output;
  }

  dispose(): void {
    this.store.dispose();
  }
}
