import * as tf from '@tensorflow/tfjs';
import { ModelError } from '../../errors';

/**
 * RoIAlign with torchvision's semantics (`torchvision.ops.roi_align`, the CPU/CUDA kernels of 0.14),
 * built from matMul/reshape/transpose so every backend runs it and tfjs differentiates it (w.r.t. the
 * features; torchvision gives no gradient w.r.t. the boxes either).
 *
 * Why it is two matrix products: each output bin averages bilinear samples on a grid, and both the
 * bilinear weights and torchvision's "sample outside the map -> 0" rule factor into a y part and an
 * x part. So bin (p, q) of a RoI is sum_y sum_x Ay[p, y] * Ax[q, x] * F[y, x, :], where Ay (P x H)
 * and Ax (Q x W) hold the summed, count-normalised sample weights; they depend only on the boxes
 * (plain numbers, computed here in JS), and the features enter linearly.
 */
export interface RoiAlignOptions {
  /** Output bins per side (7 for the box head, 14 for the mask head, 28 for mask targets). */
  outputSize: number;
  /** Feature-map cells per image pixel (1/32 for MobileNetV3's last map; 1 for mask targets). */
  spatialScale: number;
  /** Samples per bin side; <= 0: adaptive, ceil(roi size / output size) as torchvision. */
  samplingRatio: number;
  /** torchvision `aligned`: shift by -0.5 px (true) or not (false, what MultiScaleRoIAlign uses). */
  aligned?: boolean;
}

/** Sample weights of one axis: [P, size] per RoI, already divided by that axis' grid count. */
function axisWeights(start: number, extent: number, pooled: number, size: number, grid: number, out: Float32Array, offset: number): void {
  const bin = extent / pooled;
  for (let p = 0; p < pooled; p++) {
    for (let i = 0; i < grid; i++) {
      let v = start + p * bin + ((i + 0.5) * bin) / grid;
      // torchvision's bilinear_interpolate: beyond one cell outside the map the sample is 0
      if (v < -1 || v > size) continue;
      if (v <= 0) v = 0;
      let low = Math.floor(v);
      let high = low + 1;
      if (low >= size - 1) {
        low = high = size - 1;
        v = low;
      }
      const l = v - low;
      out[offset + p * size + low] += (1 - l) / grid;
      out[offset + p * size + high] += l / grid;
    }
  }
}

/**
 * Ay [R,P,H] and Ax [R,P,W] for `rois` (R x [x1,y1,x2,y2] in image pixels) on an H x W map.
 * Exported for tests; `roiAlign` is what models call.
 */
export function roiAlignWeights(rois: Float32Array, height: number, width: number, o: RoiAlignOptions): { ay: Float32Array; ax: Float32Array } {
  const r = rois.length / 4;
  const p = o.outputSize;
  const ay = new Float32Array(r * p * height);
  const ax = new Float32Array(r * p * width);
  const offset = o.aligned ? 0.5 : 0;
  for (let i = 0; i < r; i++) {
    const x1 = rois[i * 4] * o.spatialScale - offset;
    const y1 = rois[i * 4 + 1] * o.spatialScale - offset;
    let w = rois[i * 4 + 2] * o.spatialScale - offset - x1;
    let h = rois[i * 4 + 3] * o.spatialScale - offset - y1;
    // not aligned: malformed RoIs are forced to 1x1 (torchvision's legacy behaviour)
    if (!o.aligned) (w = Math.max(w, 1)), (h = Math.max(h, 1));
    const gh = o.samplingRatio > 0 ? o.samplingRatio : Math.ceil(h / p);
    const gw = o.samplingRatio > 0 ? o.samplingRatio : Math.ceil(w / p);
    axisWeights(y1, h, p, height, gh, ay, i * p * height);
    axisWeights(x1, w, p, width, gw, ax, i * p * width);
  }
  return { ay, ax };
}

/** RoIs of one image through the two products: F [H,W,C] -> [R,P,P,C]. */
function alignOne(f: tf.Tensor3D, ay: Float32Array, ax: Float32Array, r: number, p: number): tf.Tensor4D {
  return tf.tidy(() => {
    const [h, w, c] = f.shape;
    const rows = tf.matMul(tf.tensor2d(ay, [r * p, h]), f.reshape([h, w * c])); // [R*P, W*C]
    const byX = rows.reshape([r, p, w, c]).transpose([0, 2, 1, 3]).reshape([r, w, p * c]); // [R, W, P*C]
    const cols = tf.matMul(tf.tensor3d(ax, [r, p, w]), byX); // [R, Q, P*C]
    return cols.reshape([r, p, p, c]).transpose([0, 2, 1, 3]) as tf.Tensor4D; // [R, P, Q, C]
  });
}

/**
 * features [B,H,W,C], rois R x [x1,y1,x2,y2] (image pixels), batchIndex R (which image each RoI is
 * on) -> [R, P, P, C], RoIs in the order given. The caller disposes the result.
 */
export function roiAlign(features: tf.Tensor4D, rois: Float32Array, batchIndex: Int32Array, o: RoiAlignOptions): tf.Tensor4D {
  const [b, h, w, c] = features.shape;
  const r = batchIndex.length;
  if (rois.length !== 4 * r) throw new ModelError(`roiAlign: ${rois.length / 4} boxes for ${r} batch indices`);
  const p = o.outputSize;
  if (r === 0) return tf.zeros([0, p, p, c]);
  return tf.tidy(() => {
    const parts: tf.Tensor4D[] = [];
    const order: number[] = [];
    for (let img = 0; img < b; img++) {
      const idx: number[] = [];
      batchIndex.forEach((v, i) => v === img && idx.push(i));
      if (!idx.length) continue;
      const sub = new Float32Array(idx.length * 4);
      idx.forEach((k, j) => sub.set(rois.subarray(k * 4, k * 4 + 4), j * 4));
      const { ay, ax } = roiAlignWeights(sub, h, w, o);
      const f = features.slice([img, 0, 0, 0], [1, h, w, c]).reshape([h, w, c]) as tf.Tensor3D;
      parts.push(alignOne(f, ay, ax, idx.length, p));
      order.push(...idx);
    }
    if (order.length !== r) throw new ModelError(`roiAlign: batch indices must lie in [0, ${b}), got ${[...batchIndex].find((v) => v < 0 || v >= b)}`);
    const joined = parts.length === 1 ? parts[0] : tf.concat(parts, 0);
    // back to the caller's order unless it already was grouped by image
    if (order.every((v, i) => v === i)) return joined;
    const inverse = new Int32Array(r);
    order.forEach((v, i) => (inverse[v] = i));
    return tf.gather(joined, tf.tensor1d(inverse, 'int32')) as tf.Tensor4D;
  });
}
