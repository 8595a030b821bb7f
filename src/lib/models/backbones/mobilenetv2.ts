import * as tf from '@tensorflow/tfjs';
import { ConfigError } from '../../errors';
import type { ParamStore } from '../params';
import { makeBatchNorm, makeConv, type Layer } from './layers';
import { makeDivisible } from './mobilenetv3';

/**
 * torchvision's MobileNetV2 (Sandler et al. 2018) without its last 1x1 conv and classifier, NHWC:
 * `features.0` (3x3/2 conv, BN, ReLU6) and the 17 inverted residual blocks of features.1..17
 * (1x1 expand unless t = 1, 3x3 depthwise, 1x1 linear projection, each with BN; a residual when
 * the stride is 1 and the channels agree). Parameters are named as torchvision's state dict
 * (`features/3/conv/1/0/dw`), so its ImageNet weights import through torchvisionEntries.
 * `outputStride` 32 is torchvision's network; 16 and 8 follow pytorch-deeplab-xception's DeepLab
 * MobileNetV2: once the stride reached, later strides become 1 and multiply the depthwise convs'
 * atrous rate instead. Returns the low-level features (features.3, stride 4, 24 x widthMult
 * channels) and the last block's (features.17, 320 x widthMult). ReLU6, BatchNorm eps 1e-5.
 */
export interface MobileNetV2Config {
  /** torchvision `width_mult`: channels = make_divisible(c * widthMult, 8). */
  widthMult: number;
  outputStride: 8 | 16 | 32;
  /** Input channels of the stem (3 = RGB; more: RGB + evidence planes, trained from scratch). */
  inChannels?: number;
}

const BN = { eps: 1e-5, momentum: 0.1 };
/** torchvision's inverted residual setting: expand ratio t, channels c, blocks n, stride s. */
const SETTING: ReadonlyArray<[number, number, number, number]> = [
  [1, 16, 1, 1], [6, 24, 2, 2], [6, 32, 3, 2], [6, 64, 4, 2], [6, 96, 3, 1], [6, 160, 3, 2], [6, 320, 1, 1],
];
/** Index of the block whose output is the low-level (stride 4) feature map. */
const LOW_LEVEL = 3;

function convBnRelu6(p: ParamStore, prefix: string, spec: Parameters<typeof makeConv>[2]): Layer {
  const conv = makeConv(p, `${prefix}/0`, spec);
  const bn = makeBatchNorm(p, `${prefix}/1`, spec.cout, BN.eps, BN.momentum);
  return (x, training) => tf.tidy(() => tf.relu6(bn(conv(x), training)) as tf.Tensor4D);
}

interface BlockSpec {
  cin: number;
  cout: number;
  stride: number;
  dilation: number;
  expand: number;
}

function makeInvertedResidual(p: ParamStore, prefix: string, b: BlockSpec): Layer {
  const hidden = Math.round(b.cin * b.expand);
  const layers: Layer[] = [];
  let i = 0;
  if (b.expand !== 1) layers.push(convBnRelu6(p, `${prefix}/conv/${i++}`, { cin: b.cin, cout: hidden, kernel: 1 }));
  layers.push(convBnRelu6(p, `${prefix}/conv/${i++}`, { cin: hidden, cout: hidden, kernel: 3, stride: b.stride, dilation: b.dilation, depthwise: true }));
  const project = makeConv(p, `${prefix}/conv/${i++}`, { cin: hidden, cout: b.cout, kernel: 1 });
  const bn = makeBatchNorm(p, `${prefix}/conv/${i}`, b.cout, BN.eps, BN.momentum);
  const residual = b.stride === 1 && b.cin === b.cout;
  return (x, training) =>
    tf.tidy(() => {
      let y = x;
      for (const l of layers) y = l(y, training);
      y = bn(project(y), training);
      return residual ? (y.add(x) as tf.Tensor4D) : y;
    });
}

/** The blocks of features.1..17 with pytorch-deeplab-xception's stride/dilation bookkeeping. */
function blockSpecs(cfg: MobileNetV2Config, stem: number): BlockSpec[] {
  const specs: BlockSpec[] = [];
  let cin = stem;
  let current = 2;
  let rate = 1;
  for (const [t, c, n, s] of SETTING) {
    const cout = makeDivisible(c * cfg.widthMult, 8);
    let stride = s;
    let dilation = 1;
    if (current === cfg.outputStride) {
      stride = 1;
      dilation = rate;
      rate *= s;
    } else {
      current *= s;
    }
    for (let j = 0; j < n; j++) {
      specs.push({ cin, cout, stride: j === 0 ? stride : 1, dilation, expand: t });
      cin = cout;
    }
  }
  return specs;
}

export class MobileNetV2 {
  /** Channels of the low-level and the last features. */
  readonly channels: [number, number];
  private readonly stem: Layer;
  private readonly blocks: Layer[];

  constructor(readonly store: ParamStore, readonly prefix: string, readonly config: MobileNetV2Config) {
    if (![8, 16, 32].includes(config.outputStride)) throw new ConfigError(`MobileNetV2 outputStride must be 8, 16 or 32, got ${config.outputStride}`);
    if (!(config.widthMult > 0)) throw new ConfigError(`MobileNetV2 widthMult must be > 0, got ${config.widthMult}`);
    const stem = makeDivisible(32 * config.widthMult, 8);
    this.stem = convBnRelu6(store, `${prefix}/features/0`, { cin: config.inChannels ?? 3, cout: stem, kernel: 3, stride: 2 });
    const specs = blockSpecs(config, stem);
    this.blocks = specs.map((b, i) => makeInvertedResidual(store, `${prefix}/features/${i + 1}`, b));
    this.channels = [specs[LOW_LEVEL - 1].cout, specs[specs.length - 1].cout];
  }

  /** images [B,H,W,3] ImageNet-normalised -> [low (features.3), high (features.17)]. Caller disposes. */
  forward(images: tf.Tensor4D, opts: { training?: boolean } = {}): [tf.Tensor4D, tf.Tensor4D] {
    const training = opts.training ?? false;
    return tf.tidy(() => {
      let x = this.stem(images, training);
      let low = x;
      this.blocks.forEach((block, i) => {
        x = block(x, training);
        if (i + 1 === LOW_LEVEL) low = x;
      });
      return [low, x];
    });
  }
}
