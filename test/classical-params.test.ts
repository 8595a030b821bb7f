import { test } from 'node:test';
import assert from 'node:assert/strict';
import { DEFAULT_PARAMS, PARAM_GROUPS, resolveParams } from '../src/lib/classical/params';
import { STAGES } from '../src/lib/classical/stages';

test('every classical parameter belongs to exactly one group', () => {
  const grouped = Object.values(PARAM_GROUPS).flat();
  assert.deepEqual([...grouped].sort(), Object.keys(DEFAULT_PARAMS).sort());
  assert.equal(new Set(grouped).size, grouped.length);
});

test('nested, dotted and flat parameters resolve alike; unknown nested names get a suggestion', () => {
  const flat = resolveParams({ detector: 'akaze', blockMinVotes: 32, minEventScore: 0.5, events: 'regions' });
  assert.deepEqual(resolveParams({ keypoints: { detector: 'akaze' }, blocks: { blockMinVotes: 32 }, events: { minEventScore: 0.5, events: 'regions' } }), flat);
  assert.deepEqual(resolveParams({ 'keypoints.detector': 'akaze', 'blocks.blockMinVotes': 32, 'events.minEventScore': 0.5, events: 'regions' }), flat);
  assert.throws(() => resolveParams({ keypoints: { detectr: 'orb' } }), /unknown classical parameter 'keypoints.detectr'; did you mean 'detector'/);
  assert.throws(() => resolveParams({ 'blocks.minInliers': 3 }), /unknown classical parameter 'blocks.minInliers'/);
  assert.throws(() => resolveParams({ detectr: 'orb' } as never), /unknown classical parameter 'detectr'; did you mean 'detector'/);
});

test('the detector is a list of proposal stages, switched by their parameters', () => {
  assert.deepEqual(STAGES.map((s) => `${s.name}:${s.kind}`), ['keypoints:transforms', 'sift:transforms', 'blocks:transforms', 'exact:transforms', 'near:transforms', 'dense:transforms', 'resampled:regions', 'exact regions:regions', 'lanes:regions', 'periodic breaks:regions']);
  const on = (p: Partial<typeof DEFAULT_PARAMS>) => STAGES.filter((s) => s.enabled(resolveParams(p))).map((s) => s.name);
  assert.deepEqual(on({ blockMatching: true, denseMatching: false, resampledTwins: true, laneMatching: false, periodicBreaks: false }), ['keypoints', 'blocks', 'exact', 'near', 'resampled', 'exact regions']);
  assert.deepEqual(on({ blockMatching: false, exactTwins: false, exactRegions: false, nearBlocks: true, denseMatching: true, resampledTwins: false }), ['keypoints', 'near', 'dense', 'lanes', 'periodic breaks']);
});

test('minDetailDrop: 0 turns the test off, a negative fall or NaN is refused with its name', () => {
  assert.equal(resolveParams({ minDetailDrop: 0 }).minDetailDrop, 0);
  assert.throws(() => resolveParams({ minDetailDrop: -0.1 }), /minDetailDrop must lie in \[0, 2\].*-0\.1/);
  assert.throws(() => resolveParams({ 'verify.minDetailDrop': Number.NaN }), /minDetailDrop must lie in \[0, 2\]/);
});

test('nearMinScore and nearMinDrop: out-of-range or NaN values are refused with their names', () => {
  assert.equal(resolveParams({ 'near.nearMinScore': 0.9 }).nearMinScore, 0.9);
  assert.throws(() => resolveParams({ nearMinScore: 1.2 }), /nearMinScore must lie in \[0, 1\].*1\.2/);
  assert.throws(() => resolveParams({ nearMinDrop: -0.5 }), /nearMinDrop must lie in \[0, 2\].*-0\.5/);
  assert.throws(() => resolveParams({ 'near.nearMinDrop': Number.NaN }), /nearMinDrop must lie in \[0, 2\]/);
});

test('denseMinScore and denseMinDrop: out-of-range or NaN values are refused with their names', () => {
  assert.equal(resolveParams({ 'dense.denseMinScore': 0.9 }).denseMinScore, 0.9);
  assert.throws(() => resolveParams({ denseMinScore: 1.2 }), /denseMinScore must lie in \[0, 1\].*1\.2/);
  assert.throws(() => resolveParams({ denseMinDrop: -0.5 }), /denseMinDrop must lie in \[0, 2\].*-0\.5/);
  assert.throws(() => resolveParams({ 'dense.denseMinDrop': Number.NaN }), /denseMinDrop must lie in \[0, 2\]/);
});

test('minBlurredZncc: 0 turns the blurred-copy admission off, out-of-range values are refused with the name', () => {
  assert.equal(resolveParams({ 'events.minBlurredZncc': 0 }).minBlurredZncc, 0);
  assert.throws(() => resolveParams({ minBlurredZncc: 1.5 }), /minBlurredZncc must lie in \[0, 1\].*1\.5/);
  assert.throws(() => resolveParams({ minBlurredZncc: Number.NaN }), /minBlurredZncc must lie in \[0, 1\]/);
});
