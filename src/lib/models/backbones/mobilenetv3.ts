import * as tf from '@tensorflow/tfjs';
import { ConfigError, didYouMean } from '../../errors';
import { ParamStore } from '../params';
import type { Rng } from '../../util/random';
import { makeConv, makeConvBnAct, hardsigmoid, type Activation, type Layer } from './layers';

/**
 * torchvision's `mobilenet_v3_small` / `mobilenet_v3_large` `.features` (Howard et al. 2019), NHWC:
 * a 3x3 stride-2 stem (hardswish), inverted residual blocks (1x1 expand, kxk depthwise, optional
 * squeeze-excitation with hardsigmoid gate, 1x1 project, residual when shape allows), and a final 1x1
 * conv to 6x the last block's channels (576 for small, 960 for large). BatchNorm eps 0.001,
 * momentum 0.01, as torchvision builds them. Parameters are named as `features.N...` is in
 * torchvision's state dict (features/N/block/M/0/w, ...), which the weight map relies on.
 */
export interface MobileNetV3Config {
  arch: 'small' | 'large';
  /** Channel multiplier (torchvision `width_mult`); channels rounded with `_make_divisible(c, 8)`. */
  widthMult: number;
  /** torchvision `dilated`: the last stage keeps stride 16 with atrous depthwise convs (DeepLabV3's). */
  dilated: boolean;
  /** torchvision `reduced_tail`: halve the last stage's channels. */
  reducedTail: boolean;
  inChannels: number;
}

export const MOBILENETV3_DEFAULTS: MobileNetV3Config = { arch: 'small', widthMult: 1, dilated: false, reducedTail: false, inChannels: 3 };

/** One row of torchvision's `inverted_residual_setting`, before the width multiplier. */
interface BlockRow {
  cin: number;
  kernel: number;
  expanded: number;
  cout: number;
  se: boolean;
  act: Activation;
  stride: number;
  dilation: number;
}

type Row = [number, number, number, number, boolean, 'RE' | 'HS', number];

// torchvision 0.14 `_mobilenet_v3_conf`: input, kernel, expanded, out, SE, activation, stride
const LARGE: Row[] = [
  [16, 3, 16, 16, false, 'RE', 1], [16, 3, 64, 24, false, 'RE', 2], [24, 3, 72, 24, false, 'RE', 1],
  [24, 5, 72, 40, true, 'RE', 2], [40, 5, 120, 40, true, 'RE', 1], [40, 5, 120, 40, true, 'RE', 1],
  [40, 3, 240, 80, false, 'HS', 2], [80, 3, 200, 80, false, 'HS', 1], [80, 3, 184, 80, false, 'HS', 1],
  [80, 3, 184, 80, false, 'HS', 1], [80, 3, 480, 112, true, 'HS', 1], [112, 3, 672, 112, true, 'HS', 1],
  [112, 5, 672, 160, true, 'HS', 2], [160, 5, 960, 160, true, 'HS', 1], [160, 5, 960, 160, true, 'HS', 1],
];
const SMALL: Row[] = [
  [16, 3, 16, 16, true, 'RE', 2], [16, 3, 72, 24, false, 'RE', 2], [24, 3, 88, 24, false, 'RE', 1],
  [24, 5, 96, 40, true, 'HS', 2], [40, 5, 240, 40, true, 'HS', 1], [40, 5, 240, 40, true, 'HS', 1],
  [40, 5, 120, 48, true, 'HS', 1], [48, 5, 144, 48, true, 'HS', 1], [48, 5, 288, 96, true, 'HS', 2],
  [96, 5, 576, 96, true, 'HS', 1], [96, 5, 576, 96, true, 'HS', 1],
];
/** How many rows at the end form the last stage (reduced tail and dilation apply there). */
const TAIL = { large: 3, small: 3 };

/** torchvision's `_make_divisible`: round to a multiple of `divisor`, never more than 10% below `v`. */
export function makeDivisible(v: number, divisor = 8): number {
  const rounded = Math.max(divisor, Math.floor((v + divisor / 2) / divisor) * divisor);
  return rounded < 0.9 * v ? rounded + divisor : rounded;
}

function blockRows(cfg: MobileNetV3Config): BlockRow[] {
  const rows = cfg.arch === 'large' ? LARGE : SMALL;
  const tailStart = rows.length - TAIL[cfg.arch];
  const adjust = (c: number) => makeDivisible(c * cfg.widthMult);
  return rows.map(([cin, kernel, expanded, cout, se, act, stride], i) => {
    const tail = i >= tailStart;
    const div = cfg.reducedTail ? 2 : 1;
    // the reduced tail divides the last stage's channels: its blocks' outputs, and the inputs and
    // expansions of all but its first block (whose input comes from the stage before)
    const inner = (c: number) => (i > tailStart ? Math.floor(c / div) : c);
    return {
      cin: adjust(inner(cin)),
      kernel,
      expanded: adjust(inner(expanded)),
      cout: adjust(tail ? Math.floor(cout / div) : cout),
      se,
      act: act === 'HS' ? 'hardswish' : 'relu',
      stride,
      dilation: tail && cfg.dilated ? 2 : 1,
    };
  });
}

const BN = { eps: 0.001, momentum: 0.01 };

/** torchvision.ops.SqueezeExcitation with hardsigmoid: x * hsig(fc2(relu(fc1(mean(x))))). */
function makeSqueezeExcitation(p: ParamStore, prefix: string, channels: number, squeeze: number) {
  const fc1 = makeConv(p, `${prefix}/fc1`, { cin: channels, cout: squeeze, kernel: 1, bias: true });
  const fc2 = makeConv(p, `${prefix}/fc2`, { cin: squeeze, cout: channels, kernel: 1, bias: true });
  return (x: tf.Tensor4D): tf.Tensor4D =>
    tf.tidy(() => x.mul(hardsigmoid(fc2(tf.relu(fc1(x.mean([1, 2], true) as tf.Tensor4D))))) as tf.Tensor4D);
}

function makeInvertedResidual(p: ParamStore, prefix: string, r: BlockRow): Layer {
  const layers: Layer[] = [];
  let i = 0;
  if (r.expanded !== r.cin) layers.push(makeConvBnAct(p, `${prefix}/block/${i++}`, { cin: r.cin, cout: r.expanded, kernel: 1 }, r.act, BN));
  layers.push(
    makeConvBnAct(
      p,
      `${prefix}/block/${i++}`,
      { cin: r.expanded, cout: r.expanded, kernel: r.kernel, stride: r.dilation > 1 ? 1 : r.stride, dilation: r.dilation, depthwise: true },
      r.act,
      BN,
    ),
  );
  if (r.se) layers.push(makeSqueezeExcitation(p, `${prefix}/block/${i++}`, r.expanded, makeDivisible(Math.floor(r.expanded / 4))));
  layers.push(makeConvBnAct(p, `${prefix}/block/${i++}`, { cin: r.expanded, cout: r.cout, kernel: 1 }, 'none', BN));
  const residual = r.stride === 1 && r.cin === r.cout;
  return (x, training) =>
    tf.tidy(() => {
      let y = x;
      for (const layer of layers) y = layer(y, training);
      return residual ? (y.add(x) as tf.Tensor4D) : y;
    });
}

export class MobileNetV3 {
  readonly config: MobileNetV3Config;
  /** Output channels of each `features` index. */
  readonly channels: number[];
  /** Output stride of each `features` index. */
  readonly strides: number[];
  /** The default taps: the last index at each output stride (the last one is the final 1x1 conv). */
  readonly stageEnds: number[];
  private readonly layers: Layer[];

  /** Registers the weights in `store` under `prefix` (e.g. 'backbone'), named as torchvision's `features`. */
  constructor(readonly store: ParamStore, readonly prefix: string, config: Partial<MobileNetV3Config> = {}) {
    const cfg = { ...MOBILENETV3_DEFAULTS, ...config };
    if (cfg.arch !== 'small' && cfg.arch !== 'large') {
      throw new ConfigError(`unknown MobileNetV3 arch '${cfg.arch}': ${didYouMean(cfg.arch, ['small', 'large'])}`);
    }
    if (!(cfg.widthMult > 0)) throw new ConfigError(`MobileNetV3 widthMult must be > 0, got ${cfg.widthMult}`);
    this.config = cfg;
    const rows = blockRows(cfg);
    const f = `${prefix}/features`;
    const stem = rows[0].cin;
    const last = rows[rows.length - 1].cout;
    this.layers = [
      makeConvBnAct(store, `${f}/0`, { cin: cfg.inChannels, cout: stem, kernel: 3, stride: 2 }, 'hardswish', BN),
      ...rows.map((r, i) => makeInvertedResidual(store, `${f}/${i + 1}`, r)),
      makeConvBnAct(store, `${f}/${rows.length + 1}`, { cin: last, cout: 6 * last, kernel: 1 }, 'hardswish', BN),
    ];
    this.channels = [stem, ...rows.map((r) => r.cout), 6 * last];
    let s = 2;
    this.strides = [2, ...rows.map((r) => (s *= r.dilation > 1 ? 1 : r.stride)), s];
    this.stageEnds = this.strides.map((_, i) => i).filter((i) => i === this.strides.length - 1 || this.strides[i + 1] !== this.strides[i]);
  }

  /** A standalone backbone with its own store (dispose it with `dispose()`). */
  static create(config: Partial<MobileNetV3Config>, rng: Rng): MobileNetV3 {
    return new MobileNetV3(new ParamStore(rng), 'backbone', config);
  }

  /**
   * images [B,H,W,Cin], ImageNet-normalised (augment/normalize.ts IMAGENET_MEAN/STD, as torchvision's
   * preprocessing) -> the outputs of `features[i]` for each i in `taps`
   * (default `stageEnds`), [B, ceil(H/stride), ceil(W/stride), channels[i]] each; the caller disposes them.
   */
  forward(images: tf.Tensor4D, opts: { training?: boolean; taps?: readonly number[] } = {}): tf.Tensor4D[] {
    const taps = opts.taps ?? this.stageEnds;
    const bad = taps.find((t) => !(t >= 0 && t < this.layers.length));
    if (bad !== undefined) throw new ConfigError(`MobileNetV3 has features 0..${this.layers.length - 1}, no tap ${bad}`);
    const lastTap = Math.max(...taps);
    return tf.tidy(() => {
      const out = new Map<number, tf.Tensor4D>();
      let x = images;
      for (let i = 0; i <= lastTap; i++) {
        x = this.layers[i](x, opts.training ?? false);
        if (taps.includes(i)) out.set(i, x);
      }
      return taps.map((t) => out.get(t)!);
    });
  }

  dispose(): void {
    this.store.dispose();
  }
}
