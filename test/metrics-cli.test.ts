import { test } from 'node:test';
import assert from 'node:assert/strict';
import { spawnSync } from 'child_process';
import * as fs from 'fs';
import * as os from 'os';
import * as path from 'path';
import { encodeNpyMasks } from '../src/lib/data/npy';
import { writePng } from '../src/lib/data/image-io';
import { encodeAnnotation } from '../src/lib/metrics/rle';
import type { Masks } from '../src/lib/data/types';

const root = path.resolve(__dirname, '..');
function sifd(...args: string[]) {
  const r = spawnSync(process.execPath, [path.join(root, 'bin', 'sifd.js'), ...args], { cwd: root, encoding: 'utf8' });
  return { code: r.status, stdout: r.stdout, stderr: r.stderr };
}

test('sifd evaluate --solution --json prints one JSON object with the Kaggle score', () => {
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'sifd-eval-'));
  const solution = path.join(dir, 'solution.csv');
  const pred = path.join(dir, 'submission.csv');
  fs.writeFileSync(solution, 'case_id,annotation,shape\n0,"[101, 102];[300, 100]","[720, 960]"\n1,"[101, 102]","[720, 960]"\n2,"[101, 102]","[720, 960]"\n');
  fs.writeFileSync(pred, 'case_id,annotation\n2,"[101, 102]"\n1,"[101, 102]"\n0,"[101, 102]"\n');
  const r = sifd('evaluate', '--solution', solution, '--pred', pred, '--json');
  assert.equal(r.code, 0, r.stderr);
  const lines = r.stdout.trim().split('\n');
  assert.equal(lines.length, 1);
  const out = JSON.parse(lines[0]);
  assert.ok(Math.abs(out.of1 - 0.8333333333333334) < 1e-12);
  assert.equal(out.n_images, 3);
  assert.equal(out.n_forged, 3);
  for (const k of ['pixel_f1', 'dice_pos', 'dice_all', 'iou_pos', 'iou_all']) assert.equal(typeof out[k], 'number', k);

  const table = sifd('evaluate', '--solution', solution, '--pred', pred);
  assert.equal(table.code, 0);
  assert.match(table.stdout, /^of1\s+0\.8333$/m);

  fs.writeFileSync(pred, 'case_id,annotation\n0,"[101, 102]"\n1,"[5, 1, 2, 1]"\n2,authentic\n');
  const bad = sifd('evaluate', '--solution', solution, '--pred', pred, '--json');
  assert.equal(bad.code, 1);
  assert.match(bad.stderr, /MetricError: .*submission\.csv: line 3 \(case_id 1, instance 1\).*ascending/);

  const usage = sifd('evaluate', '--pred', pred);
  assert.equal(usage.code, 2);
  assert.match(usage.stderr, /exactly one of --data DIR or --solution/);
  fs.rmSync(dir, { recursive: true });
});

test('sifd evaluate --data scores against a dataset folder (masks as .npy, authentic by size), with the score breakdown in JSON and text', async () => {
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'sifd-eval-data-'));
  const [h, w] = [6, 8];
  const gray = { data: new Uint8Array(h * w * 3).fill(128), width: w, height: h, channels: 3 };
  const forged: Masks = { data: new Uint8Array(2 * h * w), count: 2, height: h, width: w };
  forged.data.fill(1, 0, 8); // instance 0: first row
  forged.data.fill(1, h * w + 40, h * w + 48); // instance 1: last row
  await writePng(path.join(dir, 'train_images', 'forged', '11.png'), gray);
  await writePng(path.join(dir, 'train_images', 'authentic', '12.png'), gray);
  fs.mkdirSync(path.join(dir, 'train_masks'), { recursive: true });
  fs.writeFileSync(path.join(dir, 'train_masks', '11.npy'), encodeNpyMasks(forged));
  const pred = path.join(dir, 'submission.csv');
  const firstRowOnly: Masks = { data: forged.data.slice(0, h * w), count: 1, height: h, width: w };
  fs.writeFileSync(pred, `case_id,annotation\n11,"${encodeAnnotation(firstRowOnly)}"\n12,authentic\n`);
  const r = sifd('evaluate', '--data', dir, '--pred', pred, '--json');
  assert.equal(r.code, 0, r.stderr);
  const out = JSON.parse(r.stdout);
  assert.equal(out.of1, (0.5 + 1) / 2); // one of two instances found; authentic kept authentic
  assert.equal(out.n_images, 2);
  assert.equal(out.n_forged, 1);
  assert.equal(out.dice_pos, 2 / 3); // tp 8, fn 8
  assert.equal(out.dice_all, (2 / 3 + 1) / 2);
  // the breakdown: the authentic row kept clean, the forged row found with one of its two events
  assert.deepEqual(
    [out.n_authentic_clean, out.authentic_false_alarm_rate, out.forged_detected_share, out.of1_forged, out.of1_authentic, out.mean_pred_instances_forged, out.mean_true_instances_forged, out.of1_merged],
    [1, 0, 1, 0.5, 1, 1, 2, 0.75],
  );
  assert.equal(out.mean_pred_instances_detected, 1);
  const text = sifd('evaluate', '--data', dir, '--pred', pred);
  assert.equal(text.code, 0, text.stderr);
  assert.match(text.stdout, /^of1\s+0\.7500$/m);
  assert.match(text.stdout, /^score breakdown/m);
  assert.match(text.stdout, /^authentic false-alarm rate\s+0$/m);
  assert.match(text.stdout, /^instances per forged image: true\s+2$/m);
  assert.match(text.stdout, /^oF1 had each image's instances been merged\s+0\.75$/m);
  fs.rmSync(dir, { recursive: true });
});
