import * as tf from '@tensorflow/tfjs';
import { ConfigError } from '../../errors';
import { Rng } from '../../util/random';
import { ParamStore } from '../params';
import { SeedBackbone } from './backbone';
import { BoxHead } from './box-head';
import { MASK_SIZE, MaskHead, pasteMasks } from './mask-head';
import { Rpn, type RpnOutput } from './rpn';
import { checkTargetPolicy, type ImageTargets, type TargetPolicy } from './targets';
import { resizeMasksNearest, scaleBoxes, transformImages, type Transformed } from './transform';

/**
 * torchvision's MaskRCNN (GeneralizedRCNN: transform -> backbone -> RPN -> RoIHeads -> postprocess)
 * in the seed's configuration. Where torchvision's defaults and the seed differ, the seed wins:
 *   anchors: torchvision (32..512 over 5 FPN levels) -> seed (16,32,64,128) x (0.5,1,2), one map;
 *   min/max size: 800/1333 -> 256/256;  RPN pre-NMS top-n train/test: 2000/1000 -> 1000/1000;
 *   RPN post-NMS top-n train/test: 2000/1000 -> 200/200;  backbone: ResNet-50-FPN -> mobilenet_v3_small
 *   features + 1x1 conv 576->256 + BatchNorm + ReLU;  classes: 91 -> 2.
 * Everything else is torchvision's default (RPN 0.7/0.3 IoU, 256 per image, NMS 0.7; box head
 * 0.5 IoU, 512 per image, score 0.05, NMS 0.5, 100 detections; TwoMLPHead 1024; mask head 4 x 256).
 * `normalize` (false): sifd's loader normalises with the ImageNet statistics already.
 */
export interface MaskRcnnConfig {
  widthMult: number;
  /**
   * Input channels: 3 (RGB, the seed's), or RGB + copy-move evidence planes (evidence/index.ts,
   * inputChannels). ImageNet weights fit only 3 (the importer names the first conv's shape).
   */
  inChannels: number;
  channels: number;
  representation: number;
  maskLayers: number[];
  numClasses: number;
  minSize: number;
  maxSize: number;
  normalize: boolean;
  anchorSizes: number[];
  anchorRatios: number[];
  rpnPreNmsTopN: number;
  rpnPostNmsTopN: number;
  rpnNmsThreshold: number;
  rpnFgIoU: number;
  rpnBgIoU: number;
  rpnBatchPerImage: number;
  rpnPositiveFraction: number;
  boxFgIoU: number;
  boxBgIoU: number;
  boxBatchPerImage: number;
  boxPositiveFraction: number;
  boxScoreThreshold: number;
  boxNmsThreshold: number;
  detectionsPerImage: number;
  /** Instances to train on: copy-move events (sifd) or the seed's contours. */
  targets: TargetPolicy;
  /**
   * Run the backbone's BatchNorm on its running statistics in training too (false: the seed, batch
   * statistics while training). MobileNetV3's BatchNorm momentum is 0.01, so its running statistics
   * trail the batch statistics for hundreds of steps; a short run from scratch (the overfit test)
   * then predicts in eval mode from features it never trained on. The affine weights still train
   * (torchvision's FrozenBatchNorm2d, used for pretrained detection backbones, freezes them too).
   */
  freezeBatchNorm: boolean;
}

export const MASKRCNN_DEFAULTS: MaskRcnnConfig = {
  widthMult: 1,
  inChannels: 3,
  channels: 256,
  representation: 1024,
  maskLayers: [256, 256, 256, 256],
  numClasses: 2,
  minSize: 256,
  maxSize: 256,
  normalize: false,
  anchorSizes: [16, 32, 64, 128],
  anchorRatios: [0.5, 1, 2],
  rpnPreNmsTopN: 1000,
  rpnPostNmsTopN: 200,
  rpnNmsThreshold: 0.7,
  rpnFgIoU: 0.7,
  rpnBgIoU: 0.3,
  rpnBatchPerImage: 256,
  rpnPositiveFraction: 0.5,
  boxFgIoU: 0.5,
  boxBgIoU: 0.5,
  boxBatchPerImage: 512,
  boxPositiveFraction: 0.25,
  boxScoreThreshold: 0.05,
  boxNmsThreshold: 0.5,
  detectionsPerImage: 100,
  targets: 'events',
  freezeBatchNorm: false,
};

/** torchvision's loss names, what the seed sums. */
export interface MaskRcnnLosses {
  loss_objectness: tf.Scalar;
  loss_rpn_box_reg: tf.Scalar;
  loss_classifier: tf.Scalar;
  loss_box_reg: tf.Scalar;
  loss_mask: tf.Scalar;
}

/** One image's detections at the model's input size. */
export interface ImageDetections {
  boxes: Float32Array;
  scores: number[];
  labels: number[];
  /** R x H x W mask probabilities pasted into the input-size image. */
  masks: Float32Array;
}

export interface MaskRcnnResult {
  losses?: MaskRcnnLosses;
  detections?: ImageDetections[];
}

function validate(c: MaskRcnnConfig): MaskRcnnConfig {
  for (const key of ['widthMult', 'inChannels', 'channels', 'representation', 'numClasses', 'minSize', 'maxSize', 'detectionsPerImage', 'rpnPreNmsTopN', 'rpnPostNmsTopN'] as const) {
    if (!(typeof c[key] === 'number' && c[key] > 0)) throw new ConfigError(`maskrcnn: '${key}' must be a number > 0, got ${String(c[key])}`);
  }
  if (c.numClasses < 2) throw new ConfigError(`maskrcnn: numClasses counts the background, so it must be >= 2, got ${c.numClasses}`);
  if (c.normalize && c.inChannels !== 3) throw new ConfigError(`maskrcnn: 'normalize' applies ImageNet statistics to RGB; with inChannels ${c.inChannels} let the loader normalise (normalize: false)`);
  checkTargetPolicy(c.targets);
  return c;
}

export class MaskRcnn {
  readonly config: MaskRcnnConfig;
  readonly store: ParamStore;
  readonly backbone: SeedBackbone;
  readonly rpn: Rpn;
  readonly boxHead: BoxHead;
  readonly maskHead: MaskHead;
  /** The sampler's randomness (torch.randperm in torchvision), seeded from the build Rng. */
  private readonly rng: Rng;

  constructor(config: Partial<MaskRcnnConfig>, rng: Rng) {
    const c = validate({ ...MASKRCNN_DEFAULTS, ...config });
    this.config = c;
    this.store = new ParamStore(rng);
    this.rng = rng.fork('sampler');
    this.backbone = new SeedBackbone(this.store, c.widthMult, c.channels, c.inChannels);
    this.rpn = new Rpn(this.store, c.channels, {
      anchors: { sizes: c.anchorSizes, ratios: c.anchorRatios },
      preNmsTopN: c.rpnPreNmsTopN,
      postNmsTopN: c.rpnPostNmsTopN,
      nmsThreshold: c.rpnNmsThreshold,
      fgIoU: c.rpnFgIoU,
      bgIoU: c.rpnBgIoU,
      batchPerImage: c.rpnBatchPerImage,
      positiveFraction: c.rpnPositiveFraction,
    });
    this.boxHead = new BoxHead(this.store, {
      channels: c.channels,
      representation: c.representation,
      numClasses: c.numClasses,
      fgIoU: c.boxFgIoU,
      bgIoU: c.boxBgIoU,
      batchPerImage: c.boxBatchPerImage,
      positiveFraction: c.boxPositiveFraction,
      scoreThreshold: c.boxScoreThreshold,
      nmsThreshold: c.boxNmsThreshold,
      detectionsPerImage: c.detectionsPerImage,
    });
    this.maskHead = new MaskHead(this.store, { channels: c.channels, layers: c.maskLayers, numClasses: c.numClasses });
  }

  /**
   * images [B,H,W,3] (same size) -> losses (when `targets`, at the input size, are given) and
   * detections (when not training). Training mode: BatchNorm on batch statistics. Every tensor in
   * the result belongs to the caller.
   */
  forward(images: tf.Tensor4D, targets: ImageTargets[] | null, training: boolean): MaskRcnnResult {
    const t = transformImages(images, this.config);
    const features = this.backbone.forward(t.images, training && !this.config.freezeBatchNorm);
    const [, padH, padW] = t.images.shape;
    const rpnOut = this.rpn.head(features, padH, padW);
    try {
      const logits = rpnOut.objectness.dataSync() as Float32Array;
      const deltas = rpnOut.deltas.dataSync() as Float32Array;
      const proposals = [...Array(images.shape[0]).keys()].map((i) => this.rpn.proposals(rpnOut, logits, deltas, i, t.height, t.width));
      // MultiScaleRoIAlign's inferred scale: the power of two nearest feature height / image height
      const scale = 2 ** Math.round(Math.log2(features.shape[1] / t.height));
      const result: MaskRcnnResult = {};
      if (targets) {
        const resized = this.resizeTargets(targets, t);
        result.losses = tf.tidy(() => this.losses(features, rpnOut, proposals, resized, scale) as unknown as tf.TensorContainer) as unknown as MaskRcnnLosses;
      }
      if (!training) result.detections = this.detect(features, proposals, scale, t, images.shape[1], images.shape[2]);
      return result;
    } finally {
      // tensors the gradient needs are saved by the tape itself, so these can go now
      tf.dispose([t.images, features, rpnOut.objectness, rpnOut.deltas]);
    }
  }

  /** Targets at the input size -> at the resized size (torchvision transform on targets). */
  private resizeTargets(targets: ImageTargets[], t: Transformed): ImageTargets[] {
    return targets.map((g) => ({ boxes: scaleBoxes(g.boxes, t.scaleX, t.scaleY), labels: g.labels, masks: resizeMasksNearest(g.masks, t.height, t.width) }));
  }

  private losses(features: tf.Tensor4D, rpnOut: RpnOutput, proposals: Float32Array[], targets: ImageTargets[], scale: number): MaskRcnnLosses {
    const gt = targets.map((g) => g.boxes);
    const rpn = this.rpn.loss(rpnOut, gt, this.rng);
    const sampled = this.boxHead.sample(proposals, gt, targets.map((g) => g.labels), this.rng);
    const box = this.boxHead.forward(features, sampled.proposals, scale);
    const boxLoss = this.boxHead.loss(box.logits, box.deltas, sampled);
    // the mask branch sees each image's positive proposals, with the ground truth they matched
    let offset = 0;
    const posBoxes: Float32Array[] = [];
    const posMatched: Int32Array[] = [];
    const posLabels: number[] = [];
    for (const p of sampled.proposals) {
      const n = p.length / 4;
      const pos = [...Array(n).keys()].filter((k) => sampled.labels[offset + k] > 0);
      posBoxes.push(Float32Array.from(pos.flatMap((k) => Array.from(p.subarray(k * 4, k * 4 + 4)))));
      posMatched.push(Int32Array.from(pos.map((k) => sampled.matched[offset + k])));
      posLabels.push(...pos.map((k) => sampled.labels[offset + k]));
      offset += n;
    }
    const maskLogits = this.maskHead.forward(features, posBoxes, scale);
    const mask = this.maskHead.loss(maskLogits, posBoxes, Int32Array.from(posLabels), posMatched, targets.map((g) => g.masks));
    return { loss_objectness: rpn.objectness, loss_rpn_box_reg: rpn.box, loss_classifier: boxLoss.classifier, loss_box_reg: boxLoss.box, loss_mask: mask };
  }

  private detect(features: tf.Tensor4D, proposals: Float32Array[], scale: number, t: Transformed, height: number, width: number): ImageDetections[] {
    const box = this.boxHead.forward(features, proposals, scale);
    const [classLogits, boxDeltas] = [box.logits.dataSync() as Float32Array, box.deltas.dataSync() as Float32Array];
    tf.dispose([box.logits, box.deltas, box.represented]);
    const found = this.boxHead.detect(classLogits, boxDeltas, proposals, t.height, t.width);
    const maskLogits = this.maskHead.forward(features, found.map((d) => d.boxes), scale);
    const logits = maskLogits.dataSync(); // [R,28,28,K]
    maskLogits.dispose();
    const k = this.config.numClasses;
    const cells = MASK_SIZE * MASK_SIZE;
    let offset = 0;
    return found.map((d) => {
      const r = d.scores.length;
      const probs = new Float32Array(r * cells);
      for (let i = 0; i < r; i++) {
        // the detected class's map (torchvision `maskrcnn_inference`)
        for (let p = 0; p < cells; p++) probs[i * cells + p] = 1 / (1 + Math.exp(-logits[((offset + i) * cells + p) * k + d.labels[i]]));
      }
      offset += r;
      // transform.postprocess: boxes back to the input size, masks pasted there
      const boxes = scaleBoxes(d.boxes, 1 / t.scaleX, 1 / t.scaleY);
      return { boxes, scores: d.scores, labels: d.labels, masks: pasteMasks(probs, MASK_SIZE, boxes, height, width) };
    });
  }

  dispose(): void {
    this.store.dispose();
  }
}
