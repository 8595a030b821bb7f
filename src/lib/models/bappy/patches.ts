import * as tf from '@tensorflow/tfjs';
import { ModelError } from '../../errors';

/**
 * The patch tiling of Bappy et al. (ICCV 2017, "Exploiting Spatial Structure for Localizing
 * Manipulated Image Regions"): an image and its mask are cut into PATCH_GRID x PATCH_GRID = 64
 * non-overlapping square patches. At the paper's input size 256 that is 8x8 patches of 32x32; at
 * any other size divisible by 8 the patches are size/8 wide (the models are convolutional and
 * read any patch size their strides divide).
 *
 * Patch order: patch (row r, column c) of the grid is index r * 8 + c, the raster order (left to
 * right, top to bottom), in every tensor and label array here. The ConvLSTM reads the patches in
 * a sequence order of its own (`sequenceOrder`): 'raster' is that same order, as the paper feeds
 * the patches; 'snake' reverses every other row so consecutive steps are always neighbours.
 */
export const PATCH_GRID = 8;
export const PATCH_COUNT = PATCH_GRID * PATCH_GRID;

/**
 * A patch is manipulated when the IoU between the mask and the patch is at least 12.5%. The IoU is
 * taken inside the patch window, where the mask's part M∩P is compared with the patch P:
 * |M∩P| / |(M∩P) ∪ P| = |M∩P| / |P|, the share of the patch's pixels that are manipulated. (Taken
 * over the whole image, |M∩P| / |M ∪ P| would call a fully forged patch authentic whenever the
 * forged region spans more than 8 patches, which is not what the labels are for.) For a 32x32 patch
 * the threshold is 128 of its 1024 pixels: 128 is manipulated, 127 is not.
 */
export const PATCH_IOU_THRESHOLD = 0.125;

export type SequenceOrder = 'raster' | 'snake';
export const SEQUENCE_ORDERS: readonly SequenceOrder[] = ['raster', 'snake'];

/** The raster patch index read at each ConvLSTM step, for `order` on a grid x grid tiling. */
export function sequenceOrder(order: SequenceOrder, grid = PATCH_GRID): number[] {
  const seq: number[] = [];
  for (let r = 0; r < grid; r++) {
    for (let k = 0; k < grid; k++) seq.push(r * grid + (order === 'snake' && r % 2 === 1 ? grid - 1 - k : k));
  }
  return seq;
}

/** The side of one patch at an input of height x width; both must be multiples of the grid (and of `multiple`). */
export function patchSide(height: number, width: number, multiple = 1, who = 'bappy'): number {
  if (height !== width) throw new ModelError(`${who}: the 8x8 patch tiling needs a square input, got ${height}x${width}`);
  const side = height / PATCH_GRID;
  if (!Number.isInteger(side) || side % multiple !== 0) {
    throw new ModelError(`${who}: input ${height}x${width} must be a multiple of ${PATCH_GRID * multiple} (8x8 patches of a multiple of ${multiple} pixels; the paper's 256 gives 32)`);
  }
  return side;
}

/**
 * Patch labels of one 0/1 mask (height x width, row-major): 64 values 0/1 in raster order, 1 when
 * the manipulated share of the patch (its IoU with the mask, see PATCH_IOU_THRESHOLD) is at least
 * `threshold`. The count is compared with threshold * area, exact for integer counts.
 */
export function patchLabels(mask: ArrayLike<number>, height: number, width: number, threshold = PATCH_IOU_THRESHOLD): Uint8Array {
  const side = patchSide(height, width);
  const counts = new Uint32Array(PATCH_COUNT);
  for (let y = 0; y < height; y++) {
    const row = Math.floor(y / side) * PATCH_GRID;
    for (let x = 0; x < width; x++) if (mask[y * width + x]) counts[row + Math.floor(x / side)] += 1;
  }
  return Uint8Array.from(counts, (n) => (n >= threshold * side * side ? 1 : 0));
}

/** The same labels for a batch of masks [B,H,W,1] (values 0/1) as a float tensor [B,64]. */
export function patchLabelsTensor(masks: tf.Tensor4D, threshold = PATCH_IOU_THRESHOLD): tf.Tensor2D {
  const [b, h, w] = masks.shape;
  const side = patchSide(h, w);
  return tf.tidy(() => {
    const counts = toPatches(masks).sum([2, 3, 4]); // [B,64], exact integers in float32
    return counts.greaterEqual(threshold * side * side).toFloat().reshape([b, PATCH_COUNT]) as tf.Tensor2D;
  });
}

/** [B,H,W,C] -> [B,64,p,p,C]: the patches in raster order (p = H/8). */
export function toPatches(x: tf.Tensor4D): tf.Tensor5D {
  const [b, h, w, c] = x.shape;
  const p = patchSide(h, w);
  const g = PATCH_GRID;
  // Rank 4 at most in the transpose, which every backend's kernel takes: [B*8 row blocks, p rows, 8 column blocks, p*C].
  return tf.tidy(() => x.reshape([b * g, p, g, p * c]).transpose([0, 2, 1, 3]).reshape([b, g * g, p, p, c]) as tf.Tensor5D);
}

/** [B,64,p,p,C] in raster order -> [B,8p,8p,C]: the inverse of toPatches. */
export function fromPatches(x: tf.Tensor5D): tf.Tensor4D {
  const [b, n, p, , c] = x.shape;
  if (n !== PATCH_COUNT) throw new ModelError(`fromPatches: expected ${PATCH_COUNT} patches, got ${n}`);
  const g = PATCH_GRID;
  return tf.tidy(() => x.reshape([b * g, g, p, p * c]).transpose([0, 2, 1, 3]).reshape([b, g * p, g * p, c]) as tf.Tensor4D);
}

/** Per-patch values [B,64] -> a per-pixel map [B,8p,8p,1] where each patch's pixels hold its value. */
export function patchValuesToMap(values: tf.Tensor2D, side: number): tf.Tensor4D {
  const b = values.shape[0];
  return tf.tidy(() => fromPatches(values.reshape([b, PATCH_COUNT, 1, 1, 1]).tile([1, 1, side, side, 1]) as tf.Tensor5D));
}
