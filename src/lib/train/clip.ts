import * as tf from '@tensorflow/tfjs';

/**
 * Clip gradients by their global L2 norm (PyTorch clip_grad_norm_): when the norm over all
 * gradients exceeds `maxNorm`, every gradient is scaled by maxNorm / (norm + 1e-6).
 * Returns new gradient tensors (the caller disposes both maps) and the norm before clipping.
 */
export function clipByGlobalNorm(grads: Map<string, tf.Tensor>, maxNorm: number): { grads: Map<string, tf.Tensor>; norm: number } {
  const norm = globalNorm(grads);
  const scale = norm > maxNorm ? maxNorm / (norm + 1e-6) : 1;
  const out = new Map<string, tf.Tensor>();
  for (const [name, g] of grads) out.set(name, scale === 1 ? g.clone() : tf.tidy(() => g.mul(scale)));
  return { grads: out, norm };
}

/** sqrt(sum over all gradients of sum(g^2)). */
export function globalNorm(grads: Map<string, tf.Tensor>): number {
  if (grads.size === 0) return 0;
  const sq = tf.tidy(() => tf.addN([...grads.values()].map((g) => g.square().sum())).sqrt());
  const v = sq.dataSync()[0];
  sq.dispose();
  return v;
}
