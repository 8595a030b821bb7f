import * as tf from '@tensorflow/tfjs';
import { ModelError } from '../../errors';
import { bceWithLogits, focalWithLogits } from '../../losses/bce';
import { contourFromMasks } from '../../losses/contour';
import { contourBce } from '../../losses/contour-bce';
import { contourContrastiveLoss } from '../../losses/contour-contrastive';
import { weightedSum } from '../../losses/weighted';
import { Rng } from '../../util/random';
import { loadResNetWeights } from '../../weights/maps/resnet';
import { MobileNetV2 } from '../backbones/mobilenetv2';
import { ResNet, resnetConfig } from '../backbones/resnet';
import { makeConv, type Conv, type Layer } from '../backbones/layers';
import { ParamStore } from '../params';
import { asppRates, makeAspp } from './aspp';
import type { DeeplabConfig } from './config';
import { makeDecoder, type DecoderLayer } from './decoder';

/** The three heads' outputs at input size, and the loss terms when targets were given. */
export interface DeeplabOutputs {
  /** [B,H,W,1] segmentation logits, contour logits; [B,H,W,D] embeddings. */
  seg: tf.Tensor4D;
  contour: tf.Tensor4D;
  embeddings: tf.Tensor4D;
}

/** What the decoder needs of a backbone: its low-level (stride 4) and last features. */
export interface DeeplabEncoder {
  /** Channels of the low-level and the last features. */
  channels: [number, number];
  features(images: tf.Tensor4D, training: boolean): [tf.Tensor4D, tf.Tensor4D];
}

/** ResNet (C2, C5; dilated to the output stride) or MobileNetV2 (features.3, features.17), under 'backbone/'. */
function makeEncoder(store: ParamStore, c: DeeplabConfig): DeeplabEncoder {
  if (c.backbone === 'mobilenetv2') {
    const net = new MobileNetV2(store, 'backbone', { widthMult: 1 / c.widthDivisor, outputStride: c.outputStride, inChannels: c.inChannels });
    return { channels: net.channels, features: (x, training) => net.forward(x, { training }) };
  }
  const base = resnetConfig(c.backbone);
  const net = new ResNet(store, 'backbone', {
    depths: c.depths ?? base.depths,
    planes: base.planes.map((n) => n / c.widthDivisor) as [number, number, number, number],
    stemWidth: base.stemWidth / c.widthDivisor,
    inChannels: c.inChannels,
    dilate: c.outputStride === 8 ? [false, true, true] : [false, false, true],
  });
  if (c.backboneWeights) loadResNetWeights(net, c.backboneWeights);
  return {
    channels: [net.channels[0], net.channels[3]],
    features: (x, training) =>
      tf.tidy(() => {
        const [c2, , , c5] = net.forward(x, { training });
        return [c2, c5];
      }),
  };
}

/** The loss terms of the last forward with targets (host numbers, for per-term training curves). */
export interface DeeplabTerms {
  seg: number;
  contour: number;
  contrast: number;
}

/**
 * DeepLabV3+ for CaCL-Net, NHWC: ResNet or MobileNetV2 (dilated to output stride 16 or 8) -> ASPP
 * on the last features -> decoder with the stride-4 ones -> three 1x1 heads on the stride-4 features: the forged-pixel classifier (one
 * logit; CaCL-Net's 2-class softmax is the same model), a contour logit and a per-pixel embedding,
 * each upsampled bilinearly (align_corners, as pytorch-deeplab-xception) to the input size.
 * Loss = segWeight * (BCE | focal) + contourWeight * contour BCE + contrastWeight * contour-aware
 * contrastive loss (losses/), the contours from the target masks.
 */
export class DeeplabV3Plus {
  readonly store: ParamStore;
  readonly backbone: DeeplabEncoder;
  lastTerms: DeeplabTerms | null = null;
  private readonly aspp: Layer;
  private readonly decoder: DecoderLayer;
  private readonly heads: { seg: Conv; contour: Conv; embed: Conv };
  private readonly sampler: Rng;

  constructor(readonly config: DeeplabConfig, rng: Rng) {
    const c = config;
    const div = c.widthDivisor;
    this.store = new ParamStore(rng.fork('weights'));
    this.sampler = rng.fork('contrastive-sampling');
    this.backbone = makeEncoder(this.store, c);
    const [c2, c5] = this.backbone.channels;
    const channels = c.asppChannels / div;
    const seeds = rng.fork('dropout');
    this.aspp = makeAspp(this.store, 'aspp', { cin: c5, channels, rates: asppRates(c.outputStride), dropout: c.dropout ? 0.5 : 0 }, seeds.nextUint32());
    this.decoder = makeDecoder(
      this.store,
      'decoder',
      { lowLevelChannels: c2, asppChannels: channels, reduced: c.lowLevelChannels / div, channels, dropout: c.dropout },
      seeds.nextUint32(),
    );
    this.heads = {
      seg: makeConv(this.store, 'decoder/last_conv/8', { cin: channels, cout: 1, kernel: 1, bias: true }),
      contour: makeConv(this.store, 'heads/contour', { cin: channels, cout: 1, kernel: 1, bias: true }),
      embed: makeConv(this.store, 'heads/embed', { cin: channels, cout: c.embeddingDim, kernel: 1, bias: true }),
    };
  }

  /** images [B,H,W,inChannels] ImageNet-normalised RGB (+ evidence planes) -> the heads at input size. Caller disposes. */
  forward(images: tf.Tensor4D, training: boolean): DeeplabOutputs {
    if (images.rank !== 4 || images.shape[3] !== this.config.inChannels) throw new ModelError(`deeplabv3plus: expected images [B,H,W,${this.config.inChannels}], got [${images.shape}]`);
    return tf.tidy(() => {
      const [, h, w] = images.shape;
      const [c2, c5] = this.backbone.features(images, training);
      const feat = this.decoder(this.aspp(c5, training), c2, training);
      const up = (x: tf.Tensor4D) => tf.image.resizeBilinear(x, [h, w], true);
      return { seg: up(this.heads.seg(feat)), contour: up(this.heads.contour(feat)), embeddings: up(this.heads.embed(feat)) };
    });
  }

  /** The weighted loss of `out` against foreground targets [B,H,W,1]; sets lastTerms. */
  loss(out: DeeplabOutputs, masks: tf.Tensor4D): tf.Scalar {
    const c = this.config;
    return tf.tidy(() => {
      const seg = c.lossType === 'focal' ? focalWithLogits(out.seg, masks) : bceWithLogits(out.seg, masks);
      const contour = contourFromMasks(masks, c.contourWidth);
      const edge = contourBce(out.contour, contour.band);
      const contrast =
        c.contrastWeight > 0
          ? contourContrastiveLoss(out.embeddings, contour.inner, contour.outer, { maxPerSide: c.contrastSamples, temperature: c.temperature, rng: this.sampler })
          : tf.scalar(0);
      this.lastTerms = { seg: seg.dataSync()[0], contour: edge.dataSync()[0], contrast: contrast.dataSync()[0] };
      return weightedSum({
        seg: { weight: c.segWeight, value: seg },
        contour: { weight: c.contourWeight, value: edge },
        contrast: { weight: c.contrastWeight, value: contrast },
      });
    });
  }

  dispose(): void {
    this.store.dispose();
  }
}
