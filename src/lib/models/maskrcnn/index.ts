import * as tf from '@tensorflow/tfjs';
import { ModelError } from '../../errors';
import { decodeBoxes } from '../../infer/decode';
import { registerModel } from '../registry';
import type { ForwardInput, ForwardOutput, Model, ModelConfig } from '../types';
import { MaskRcnn, MASKRCNN_DEFAULTS, type ImageDetections, type MaskRcnnConfig, type MaskRcnnLosses } from './model';
import { forwardTargets } from './targets';

/**
 * Registers `maskrcnn-mnv3s`: the seed's torchvision Mask R-CNN over MobileNetV3-Small (model.ts),
 * adapted to the model contract. Training: `loss` is the sum of torchvision's five losses (what the
 * seed backpropagates); the last step's components are on `net.lastLosses` for live plots. Without
 * `training` the output also holds the detections, for `decodeBoxes`: `boxes` [B,Q,4] (input pixels),
 * `scores` [B,Q] and `instances` [B,Q,H,W] (pasted mask probabilities), Q = the most detections of
 * any image (others padded with score 0). Given targets in eval mode it reports the losses too, with
 * BatchNorm in eval mode (the seed ran its validation in train mode to get them).
 */
export type MaskRcnnModel = Model & { net: MaskRcnn; lastLosses: Record<string, number> };

/**
 * Per-image detections -> the contract's batched tensors, plus `masks` [B,H,W,1]: each pixel's
 * strongest detection (box score x mask probability), the foreground map that evidence is verified
 * against (infer/decode.ts decodeBoxes) and pixel AUC is measured on.
 */
function packDetections(dets: ImageDetections[], height: number, width: number): Pick<ForwardOutput, 'boxes' | 'scores' | 'instances' | 'masks'> {
  const b = dets.length;
  const q = Math.max(0, ...dets.map((d) => d.scores.length));
  const n = height * width;
  const boxes = new Float32Array(b * q * 4);
  const scores = new Float32Array(b * q);
  const instances = new Float32Array(b * q * n);
  const foreground = new Float32Array(b * n);
  dets.forEach((d, i) => {
    boxes.set(d.boxes, i * q * 4);
    scores.set(d.scores, i * q);
    instances.set(d.masks, i * q * n);
    d.scores.forEach((score, k) => {
      for (let p = 0; p < n; p++) foreground[i * n + p] = Math.max(foreground[i * n + p], score * d.masks[k * n + p]);
    });
  });
  return {
    boxes: tf.tensor3d(boxes, [b, q, 4]),
    scores: tf.tensor2d(scores, [b, q]),
    instances: tf.tensor4d(instances, [b, q, height, width]),
    masks: tf.tensor4d(foreground, [b, height, width, 1]),
  };
}

function sumLosses(l: MaskRcnnLosses, record: Record<string, number>): tf.Scalar {
  for (const [k, v] of Object.entries(l)) record[k] = (v as tf.Scalar).dataSync()[0];
  const total = tf.addN(Object.values(l) as tf.Scalar[]) as tf.Scalar;
  tf.dispose(Object.values(l) as tf.Scalar[]);
  record.loss = total.dataSync()[0];
  return total;
}

export function adaptMaskRcnn(name: string, net: MaskRcnn): MaskRcnnModel {
  let disposed = false;
  const model: MaskRcnnModel = {
    name,
    net,
    lastLosses: {},
    config: { ...net.config } as unknown as ModelConfig,
    params: net.store.variables,
    buffers: net.store.buffers,
    forward(input: ForwardInput, opts: { training: boolean }): ForwardOutput {
      if (disposed) throw new ModelError(`${name}: forward after dispose()`);
      const [, h, w, c] = input.images.shape;
      const cin = net.config.inChannels;
      if (input.images.rank !== 4 || c !== cin) throw new ModelError(`${name}: expected images [B,H,W,${cin}], got [${input.images.shape.join(',')}]`);
      const targets = input.instances || input.masks ? forwardTargets(input, net.config.targets) : null;
      const result = net.forward(input.images, targets, opts.training);
      const out: ForwardOutput = {};
      if (result.losses) {
        model.lastLosses = {};
        out.loss = sumLosses(result.losses, model.lastLosses);
      }
      if (result.detections) Object.assign(out, packDetections(result.detections, h, w));
      return out;
    },
    dispose() {
      net.dispose();
      disposed = true;
    },
  };
  return model;
}

registerModel('maskrcnn-mnv3s', {
  description: "torchvision Mask R-CNN over MobileNetV3-Small features (the Kaggle seed's): one 1/32 map, anchors 16-128, RoIAlign 7/14, boxes + masks per event",
  defaults: { ...MASKRCNN_DEFAULTS } as unknown as ModelConfig,
  // boxes are recomputed from the instance masks (so the seed's contour targets work too)
  targets: ['instances', 'boxes'],
  decode: decodeBoxes,
  build: (config, rng) => adaptMaskRcnn('maskrcnn-mnv3s', new MaskRcnn(config as Partial<MaskRcnnConfig>, rng)),
});

export { MaskRcnn, MASKRCNN_DEFAULTS } from './model';
export type { ImageDetections, MaskRcnnConfig, MaskRcnnLosses, MaskRcnnResult } from './model';
export { roiAlign } from './roi-align';
export { imageTargets, TARGET_POLICIES, type ImageTargets, type TargetPolicy } from './targets';
