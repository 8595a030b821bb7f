// Smoke test of the native TensorFlow backend, run by environment/native.sh after the build:
// `node environment/native-smoke.js <package dir>`. Loads the addon, checks the backend name, a conv2d and a gradient.
'use strict';
const path = require('path');
process.env.TF_CPP_MIN_LOG_LEVEL = process.env.TF_CPP_MIN_LOG_LEVEL || '2';
const tf = require(path.resolve(process.argv[2]));
function check(ok, what) {
  if (!ok) throw new Error(`native smoke test: ${what}`);
}
(async () => {
  await tf.setBackend('tensorflow');
  check(tf.getBackend() === 'tensorflow', `backend is '${tf.getBackend()}', expected 'tensorflow'`);
  const conv = tf.conv2d(tf.ones([1, 3, 3, 1]), tf.ones([3, 3, 1, 1]), 1, 'valid').dataSync()[0];
  check(conv === 9, `conv2d gave ${conv}, expected 9`);
  const grad = tf.grad((x) => x.square().sum())(tf.tensor1d([1, 2, 3])).arraySync();
  check(JSON.stringify(grad) === '[2,4,6]', `the gradient of sum(x^2) at [1,2,3] is ${JSON.stringify(grad)}, expected [2,4,6]`);
  console.log(`native smoke test passed: TensorFlow ${tf.version['tfjs-node'] ? `(tfjs-node ${tf.version['tfjs-node']})` : ''} conv2d ${conv}, gradient ${JSON.stringify(grad)}`);
})().catch((err) => {
  console.error(err instanceof Error ? err.message : err);
  process.exit(1);
});
