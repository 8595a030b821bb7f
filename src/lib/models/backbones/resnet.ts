import * as tf from '@tensorflow/tfjs';
import { ConfigError, didYouMean } from '../../errors';
import { ParamStore } from '../params';
import type { Rng } from '../../util/random';
import { makeBatchNorm, makeConv, maxPoolPadded, type Layer } from './layers';

/**
 * torchvision's ResNet with Bottleneck blocks (ResNet-50/101, "v1.5": the stride sits on the 3x3
 * conv, not the first 1x1), NHWC, without the classifier: stem (7x7/2 conv, BN, ReLU, 3x3/2 max
 * pool), then layer1..layer4, whose outputs are C2..C5 at strides 4/8/16/32. `dilate` is
 * torchvision's `replace_stride_with_dilation` for layer2..layer4: a dilated layer keeps its input's
 * resolution and multiplies the atrous rate by 2 instead (output stride 16: [false, false, true];
 * 8: [false, true, true], as DeepLabV3+ uses). BatchNorm eps 1e-5, momentum 0.1.
 * Parameters are named as torchvision's state dict (layer1/0/conv1/w, layer1/0/downsample/0/w, ...).
 */
export interface ResNetConfig {
  /** Bottleneck blocks per layer: [3, 4, 6, 3] ResNet-50, [3, 4, 23, 3] ResNet-101. */
  depths: [number, number, number, number];
  /** Planes per layer (outputs are 4x these); torchvision fixes [64, 128, 256, 512]. */
  planes: [number, number, number, number];
  /** torchvision `width_per_group` (64; 128 for the wide variants): bottleneck width = planes * this / 64. */
  widthPerGroup: number;
  /** Stem output channels (torchvision's fixed `inplanes` of 64). */
  stemWidth: number;
  dilate: [boolean, boolean, boolean];
  inChannels: number;
}

const EXPANSION = 4;
const BN = { eps: 1e-5, momentum: 0.1 };

export const RESNET_VARIANTS: Record<string, Pick<ResNetConfig, 'depths'>> = {
  resnet50: { depths: [3, 4, 6, 3] },
  resnet101: { depths: [3, 4, 23, 3] },
};

export const RESNET_DEFAULTS: ResNetConfig = {
  depths: [3, 4, 6, 3],
  planes: [64, 128, 256, 512],
  widthPerGroup: 64,
  stemWidth: 64,
  dilate: [false, false, false],
  inChannels: 3,
};

/** The config of a published variant ('resnet50', 'resnet101') with `overrides`. */
export function resnetConfig(variant: string, overrides: Partial<ResNetConfig> = {}): ResNetConfig {
  const v = RESNET_VARIANTS[variant];
  if (!v) throw new ConfigError(`unknown ResNet variant '${variant}': ${didYouMean(variant, Object.keys(RESNET_VARIANTS))}`);
  return { ...RESNET_DEFAULTS, ...v, ...overrides };
}

interface BlockSpec {
  cin: number;
  planes: number;
  width: number;
  stride: number;
  dilation: number;
  downsample: boolean;
}

/** 1x1 reduce, 3x3 (stride, dilation), 1x1 expand, each with BN; ReLU after the first two and after the sum. */
function makeBottleneck(p: ParamStore, prefix: string, b: BlockSpec): Layer {
  const out = b.planes * EXPANSION;
  const conv1 = makeConv(p, `${prefix}/conv1`, { cin: b.cin, cout: b.width, kernel: 1 });
  const bn1 = makeBatchNorm(p, `${prefix}/bn1`, b.width, BN.eps, BN.momentum);
  const conv2 = makeConv(p, `${prefix}/conv2`, { cin: b.width, cout: b.width, kernel: 3, stride: b.stride, dilation: b.dilation });
  const bn2 = makeBatchNorm(p, `${prefix}/bn2`, b.width, BN.eps, BN.momentum);
  const conv3 = makeConv(p, `${prefix}/conv3`, { cin: b.width, cout: out, kernel: 1 });
  const bn3 = makeBatchNorm(p, `${prefix}/bn3`, out, BN.eps, BN.momentum);
  const down = b.downsample ? makeConv(p, `${prefix}/downsample/0`, { cin: b.cin, cout: out, kernel: 1, stride: b.stride }) : null;
  const downBn = b.downsample ? makeBatchNorm(p, `${prefix}/downsample/1`, out, BN.eps, BN.momentum) : null;
  return (x, training) =>
    tf.tidy(() => {
      let y = tf.relu(bn1(conv1(x), training));
      y = tf.relu(bn2(conv2(y), training));
      y = bn3(conv3(y), training);
      const identity = down && downBn ? downBn(down(x), training) : x;
      return tf.relu(y.add(identity)) as tf.Tensor4D;
    });
}

/** torchvision's `_make_layer`, with its dilation bookkeeping (the first block keeps the previous rate). */
function layerSpecs(cfg: ResNetConfig): BlockSpec[][] {
  let inplanes = cfg.stemWidth;
  let dilation = 1;
  return cfg.depths.map((depth, li) => {
    let stride = li === 0 ? 1 : 2;
    const previous = dilation;
    if (li > 0 && cfg.dilate[li - 1]) {
      dilation *= stride;
      stride = 1;
    }
    const planes = cfg.planes[li];
    const width = Math.floor(planes * (cfg.widthPerGroup / 64));
    const blocks: BlockSpec[] = [];
    for (let j = 0; j < depth; j++) {
      const first = j === 0;
      blocks.push({
        cin: first ? inplanes : planes * EXPANSION,
        planes,
        width,
        stride: first ? stride : 1,
        dilation: first ? previous : dilation,
        downsample: first && (stride !== 1 || inplanes !== planes * EXPANSION),
      });
    }
    inplanes = planes * EXPANSION;
    return blocks;
  });
}

export class ResNet {
  readonly config: ResNetConfig;
  /** Channels of C2..C5. */
  readonly channels: number[];
  /** Output strides of C2..C5 (8/8/8 from layer2 on at output stride 8). */
  readonly strides: number[];
  private readonly stem: Layer;
  private readonly layers: Layer[][];

  /** Registers the weights in `store` under `prefix` (e.g. 'backbone'), named as torchvision's state dict. */
  constructor(readonly store: ParamStore, readonly prefix: string, config: Partial<ResNetConfig> = {}) {
    const cfg = { ...RESNET_DEFAULTS, ...config };
    if (cfg.depths.length !== 4 || cfg.planes.length !== 4 || cfg.dilate.length !== 3) {
      throw new ConfigError('ResNet needs 4 depths, 4 planes and 3 dilate flags (layer2..layer4)');
    }
    this.config = cfg;
    const conv1 = makeConv(store, `${prefix}/conv1`, { cin: cfg.inChannels, cout: cfg.stemWidth, kernel: 7, stride: 2 });
    const bn1 = makeBatchNorm(store, `${prefix}/bn1`, cfg.stemWidth, BN.eps, BN.momentum);
    this.stem = (x, training) => tf.tidy(() => maxPoolPadded(tf.relu(bn1(conv1(x), training)), 3, 2, 1));
    const specs = layerSpecs(cfg);
    this.layers = specs.map((blocks, li) => blocks.map((b, j) => makeBottleneck(store, `${prefix}/layer${li + 1}/${j}`, b)));
    this.channels = cfg.planes.map((pl) => pl * EXPANSION);
    let s = 4;
    this.strides = [4, ...cfg.dilate.map((d) => (s *= d ? 1 : 2))];
  }

  static create(config: Partial<ResNetConfig>, rng: Rng): ResNet {
    return new ResNet(new ParamStore(rng), 'backbone', config);
  }

  /**
   * images [B,H,W,Cin], ImageNet-normalised (augment/normalize.ts IMAGENET_MEAN/STD, as torchvision's
   * preprocessing) -> [C2, C3, C4, C5], C_i [B, ~H/stride_i, ~W/stride_i, channels_i]
   * (PyTorch's floor arithmetic at each stride-2 step); with `stem`, the max-pool output first. Caller disposes.
   */
  forward(images: tf.Tensor4D, opts: { training?: boolean; stem?: boolean } = {}): tf.Tensor4D[] {
    const training = opts.training ?? false;
    return tf.tidy(() => {
      let x = this.stem(images, training);
      const out: tf.Tensor4D[] = opts.stem ? [x] : [];
      for (const layer of this.layers) {
        for (const block of layer) x = block(x, training);
        out.push(x);
      }
      return out;
    });
  }

  dispose(): void {
    this.store.dispose();
  }
}
