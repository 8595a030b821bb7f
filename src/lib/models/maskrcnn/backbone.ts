import * as tf from '@tensorflow/tfjs';
import { makeBatchNorm, makeConv } from '../backbones/layers';
import { MobileNetV3 } from '../backbones/mobilenetv3';
import type { ParamStore } from '../params';

/**
 * The seed's backbone: torchvision `mobilenet_v3_small().features` (out 576 at width 1, stride 32)
 * then Conv2d(576 -> channels, 1x1, bias) + BatchNorm2d (PyTorch defaults eps 1e-5, momentum 0.1) +
 * ReLU, one feature map. As an nn.Sequential its state dict keys are `backbone.0.<features index>...`,
 * `backbone.1.*` (conv), `backbone.2.*` (norm); sifd names them `backbone/0/features/...`, `backbone/1`,
 * `backbone/2` (weights/maps/maskrcnn.ts drops the `features` level).
 */
export class SeedBackbone {
  readonly mobilenet: MobileNetV3;
  readonly stride = 32;
  private readonly conv: (x: tf.Tensor4D) => tf.Tensor4D;
  private readonly norm: (x: tf.Tensor4D, training: boolean) => tf.Tensor4D;

  constructor(store: ParamStore, widthMult: number, readonly channels: number, inChannels = 3) {
    this.mobilenet = new MobileNetV3(store, 'backbone/0', { arch: 'small', widthMult, inChannels });
    const last = this.mobilenet.channels[this.mobilenet.channels.length - 1];
    this.conv = makeConv(store, 'backbone/1', { cin: last, cout: channels, kernel: 1, bias: true });
    this.norm = makeBatchNorm(store, 'backbone/2', channels, 1e-5, 0.1);
  }

  /** images [B,H,W,inChannels] normalised (RGB, then any evidence planes) -> [B, ceil(H/32), ceil(W/32), channels]. */
  forward(images: tf.Tensor4D, training: boolean): tf.Tensor4D {
    return tf.tidy(() => {
      const last = this.mobilenet.channels.length - 1;
      const [f] = this.mobilenet.forward(images, { training, taps: [last] });
      return tf.relu(this.norm(this.conv(f), training));
    });
  }
}
