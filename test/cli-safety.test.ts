/**
 * Issue 20: no image lost, no raw stack trace. Each test names the issue item it covers.
 */
import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import * as fs from 'fs';
import * as os from 'os';
import * as path from 'path';
import { main } from '../src/cli/main';
import { generateDataset } from '../src/lib/data/synth/index';
import { scan } from '../src/lib/data/scan';
import { readSubmission } from '../src/lib/infer/submission';
import { cleanStaleTemps, createTempDir, createTempFile } from '../src/lib/util/tempfile';
import { writeFileAtomic } from '../src/lib/util/atomic';
import { boundPixels, CLASSICAL_MAX_PIXELS, createClassicalPredictor, downscaleNearest } from '../src/lib/classical/predictor';
import { predictImages } from '../src/lib/infer/predict';
import type { Image } from '../src/lib/data/types';

let root: string;
/** A synthetic Kaggle-layout dataset, copied fresh for each test that changes it. */
let pristine: string;

async function sifd(...argv: string[]): Promise<{ code: number; out: string; err: string }> {
  const out: string[] = [];
  const err: string[] = [];
  const saved = { log: console.log, error: console.error, warn: console.warn, write: process.stderr.write };
  console.log = (...a: unknown[]) => void out.push(a.join(' '));
  console.error = (...a: unknown[]) => void err.push(a.join(' '));
  console.warn = console.error;
  (process.stderr as { write: unknown }).write = (s: string) => (err.push(String(s)), true);
  try {
    return { code: await main(argv), out: out.join('\n'), err: err.join('\n') };
  } finally {
    console.log = saved.log;
    console.error = saved.error;
    console.warn = saved.warn;
    (process.stderr as { write: unknown }).write = saved.write;
  }
}

function copy(name: string): string {
  const dir = path.join(root, name);
  fs.cpSync(pristine, dir, { recursive: true });
  return dir;
}

/** Every image stem under a Kaggle root's image folders. */
function stems(dir: string, folder = 'train_images'): string[] {
  const out: string[] = [];
  const walk = (d: string) => {
    for (const e of fs.readdirSync(d, { withFileTypes: true })) {
      const p = path.join(d, e.name);
      if (e.isDirectory() || (e.isSymbolicLink() && fs.statSync(p).isDirectory())) walk(p);
      else if (e.name.endsWith('.png')) out.push(path.parse(e.name).name);
    }
  };
  walk(path.join(dir, folder));
  return out.sort();
}

function forgedIds(dir: string): string[] {
  return fs.readdirSync(path.join(dir, 'train_images', 'forged')).map((f) => path.parse(f).name).sort();
}

/** A float32 (H, W) .npy holding `value` everywhere. */
function floatMask(file: string, height: number, width: number, value: number): void {
  let header = `{'descr': '<f4', 'fortran_order': False, 'shape': (${height}, ${width}), }`;
  while ((10 + header.length + 1) % 64 !== 0) header += ' ';
  header += '\n';
  const head = Buffer.alloc(10);
  Buffer.from([0x93, 0x4e, 0x55, 0x4d, 0x50, 0x59, 1, 0]).copy(head);
  head.writeUInt16LE(header.length, 8);
  const body = Buffer.from(new Float32Array(height * width).fill(value).buffer);
  fs.writeFileSync(file, Buffer.concat([head, Buffer.from(header, 'latin1'), body]));
}

const noStack = (text: string) => assert.doesNotMatch(text, /\n\s+at .+:\d+:\d+/, `no stack trace in:\n${text}`);

before(async () => {
  root = fs.mkdtempSync(path.join(os.tmpdir(), 'sifd-safety-'));
  pristine = path.join(root, 'pristine');
  // no twins: every stem names one image, so the tests below can name images by stem
  await generateDataset({ out: pristine, n: 10, seed: 4, forgedRatio: 0.6, testFraction: 0, sizes: { min: 48, max: 72 }, twins: false });
  for (const d of ['test_images', 'test_masks']) fs.rmSync(path.join(pristine, d), { recursive: true }); // train split only
});

after(() => fs.rmSync(root, { recursive: true, force: true }));

test('item 2: predict on a Kaggle root keeps every image whose mask is truncated, 3-D ambiguous, mis-shaped or missing', async () => {
  const dir = copy('bad-masks');
  const [a, b, c, d] = forgedIds(dir);
  const mask = (id: string) => path.join(dir, 'train_masks', `${id}.npy`);
  fs.writeFileSync(mask(a), fs.readFileSync(mask(a)).subarray(0, 40)); // truncated
  floatMask(mask(b), 3, 3, 1); // wrong shape
  fs.copyFileSync(path.join(__dirname, 'fixtures', 'data', 'npy', 'ambiguous_3d.npy'), mask(c)); // ambiguous 3-D
  fs.rmSync(mask(d)); // forged image without a mask
  const csv = path.join(root, 'bad-masks.csv');
  const r = await sifd('predict', '--classical', '--images', dir, '--out', csv);
  assert.equal(r.code, 0, r.err);
  assert.deepEqual([...readSubmission(csv).keys()].sort(), stems(dir));
});

test('item 3: a label folder that is a symbolic link is followed (scan, eda and train see its images)', async () => {
  const dir = copy('linked');
  const elsewhere = path.join(root, 'elsewhere-forged');
  fs.renameSync(path.join(dir, 'train_images', 'forged'), elsewhere);
  fs.symlinkSync(elsewhere, path.join(dir, 'train_images', 'forged'));
  const result = await scan(dir);
  assert.deepEqual(result.problems, []);
  assert.equal(result.samples.filter((s) => s.label === 'forged').length, forgedIds(pristine).length);
  const eda = await sifd('eda', '--data', dir);
  assert.equal(eda.code, 0, eda.err);
  assert.match(eda.out, new RegExp(`train/forged: ${forgedIds(pristine).length}\\b`));
  assert.match(eda.out, /, 0 problems/);
  // a link to nowhere is a named problem, not a silent loss
  fs.symlinkSync(path.join(root, 'missing-target'), path.join(dir, 'train_images', 'authentic', 'gone.png'));
  const broken = await scan(dir);
  assert.deepEqual(broken.problems.map((p) => p.kind), ['broken-link']);
});

test('item 4: a truncated PNG is found by eda (header level) and skipped with a problem by predict, which still writes the CSV', async () => {
  const dir = copy('truncated');
  const victim = fs.readdirSync(path.join(dir, 'train_images', 'authentic'))[0];
  const file = path.join(dir, 'train_images', 'authentic', victim);
  fs.writeFileSync(file, fs.readFileSync(file).subarray(0, fs.statSync(file).size - 20));
  const eda = await sifd('eda', '--data', dir, '--verify', 'header');
  assert.equal(eda.code, 0, eda.err);
  assert.match(eda.out, /1 problems/);
  assert.match(eda.out, /problem corrupt-image: 1/);
  const csv = path.join(root, 'truncated.csv');
  const r = await sifd('predict', '--classical', '--images', dir, '--out', csv);
  assert.equal(r.code, 1, 'an image without a row makes the exit status 1');
  assert.match(r.err, new RegExp(`${victim.replace('.', '\\.')}.*truncated PNG`));
  const rows = [...readSubmission(csv).keys()].sort();
  assert.deepEqual(rows, stems(dir).filter((s) => s !== path.parse(victim).name));
  // an image that fails to decode mid-run (not caught by the scan) is skipped the same way
  const image: Image = { data: new Uint8Array(12), width: 2, height: 2, channels: 3 };
  const skipped: string[] = [];
  const out = await predictImages(
    createClassicalPredictor(),
    [
      { caseId: 'bad', file: '/x/bad.png', load: () => Promise.reject(new Error('boom')) },
      { caseId: 'ok', file: '/x/ok.png', load: async () => image },
    ],
    { onError: (src) => (skipped.push(src.caseId), 'skip') },
  );
  assert.deepEqual(skipped, ['bad']);
  assert.deepEqual(out.map((row) => row.caseId), ['ok']);
});

test('item 5: train skips forged images whose mask is all zero or NaN, naming the problem', async () => {
  const dir = copy('empty-masks');
  const [a, b] = forgedIds(dir);
  const result0 = await scan(dir);
  const dims = (id: string) => {
    const s = result0.samples.find((x) => x.id === id)!;
    const d = result0.details.get(s.imagePath)!.image;
    return [d.height, d.width] as [number, number];
  };
  floatMask(path.join(dir, 'train_masks', `${a}.npy`), ...dims(a), 0);
  floatMask(path.join(dir, 'train_masks', `${b}.npy`), ...dims(b), NaN);
  const run = path.join(root, 'runs', 'empty');
  const r = await sifd('train', '--data', dir, '--out', run, '--epochs', '1', '--size', '32', '--batch', '4', '--backend', 'wasm', '--val-fraction', '0');
  assert.equal(r.code, 0, r.err);
  for (const id of [a, b]) assert.match(r.err, new RegExp(`skipped .*${id}\\.npy: .*no forged pixel`));
  const summary = JSON.parse(r.out.trim().split('\n').pop()!);
  assert.equal(summary.train_samples, stems(dir).length - 2);
});

test('item 6: synth --out over an earlier output never deletes files it did not write, and a symlinked --out stays a link', async () => {
  const out = path.join(root, 'synth-again');
  const first = await sifd('synth', '--out', out, '--n', '3', '--seed', '1', '--min-size', '48', '--max-size', '64');
  assert.equal(first.code, 0, first.err);
  fs.writeFileSync(path.join(out, 'NOTES.md'), 'mine');
  fs.mkdirSync(path.join(out, 'runs'));
  fs.writeFileSync(path.join(out, 'runs', 'r.txt'), 'mine');
  const again = await sifd('synth', '--out', out, '--n', '3', '--seed', '2', '--min-size', '48', '--max-size', '64');
  assert.equal(again.code, 1);
  assert.match(again.err, /files it did not write \((NOTES\.md, runs\/|runs\/, NOTES\.md)\)/);
  noStack(again.err);
  assert.equal(fs.readFileSync(path.join(out, 'NOTES.md'), 'utf8'), 'mine');
  assert.equal(fs.readFileSync(path.join(out, 'runs', 'r.txt'), 'utf8'), 'mine');
  // only its own files: replaced
  fs.rmSync(path.join(out, 'NOTES.md'));
  fs.rmSync(path.join(out, 'runs'), { recursive: true });
  assert.equal((await sifd('synth', '--out', out, '--n', '3', '--seed', '2', '--min-size', '48', '--max-size', '64')).code, 0);
  // --out a symlink to a folder: the link stays, the folder it points to gets the dataset
  const target = path.join(root, 'synth-target');
  const link = path.join(root, 'synth-link');
  fs.mkdirSync(target);
  fs.symlinkSync(target, link);
  for (const seed of ['1', '2']) {
    const r = await sifd('synth', '--out', link, '--n', '3', '--seed', seed, '--min-size', '48', '--max-size', '64');
    assert.equal(r.code, 0, r.err);
    assert.ok(fs.lstatSync(link).isSymbolicLink(), 'the link is still a link');
    assert.ok(fs.existsSync(path.join(target, 'manifest.json')));
  }
});

test('item 7: --out that is a folder, lies under a file, or is a file where a folder is needed: a clear error naming the path, before any work', async () => {
  const file = path.join(root, 'a-file');
  fs.writeFileSync(file, 'x');
  const folder = path.join(root, 'a-folder');
  fs.mkdirSync(folder, { recursive: true });
  const cases: Array<[string[], RegExp]> = [
    [['eda', '--data', pristine, '--json', folder], /--json is a folder; give a file name/],
    [['eda', '--data', pristine, '--out', path.join(file, 'r.html')], /cannot be created: .*a-file is a file, not a folder/],
    [['synth', '--out', file, '--n', '2', '--seed', '1'], /--out exists and is not a folder/],
    [['synth', '--out', path.join(file, 'sub'), '--n', '2', '--seed', '1'], /a-file is a file, not a folder/],
    [['predict', '--classical', '--images', pristine, '--out', folder], /--out is a folder/],
    [['predict', '--classical', '--images', file, '--out', path.join(root, 'p.csv')], /--images is not a folder/],
    [['train', '--data', pristine, '--out', file], /--out exists and is not a folder/],
  ];
  for (const [argv, message] of cases) {
    const t0 = Date.now();
    const r = await sifd(...argv);
    assert.equal(r.code, 1, `${argv.join(' ')}: ${r.err}`);
    assert.match(r.err, message);
    noStack(r.err);
    assert.ok(Date.now() - t0 < 3000, `${argv[0]} failed before the work`);
  }
  // predict --out naming an input image: refused, the image untouched
  const victim = path.join(pristine, 'train_images', 'authentic', fs.readdirSync(path.join(pristine, 'train_images', 'authentic'))[0]);
  const before = fs.readFileSync(victim);
  const r = await sifd('predict', '--classical', '--images', pristine, '--out', victim);
  assert.equal(r.code, 1);
  assert.match(r.err, /would overwrite an input file|--out is an existing image or mask file/);
  assert.deepEqual(fs.readFileSync(victim), before);
  const maskFile = path.join(pristine, 'train_masks', fs.readdirSync(path.join(pristine, 'train_masks'))[0]);
  const maskBytes = fs.readFileSync(maskFile);
  const m = await sifd('predict', '--classical', '--images', path.join(pristine, 'train_images'), '--out', maskFile);
  assert.equal(m.code, 1);
  assert.match(m.err, /--out is an existing image or mask file/);
  assert.deepEqual(fs.readFileSync(maskFile), maskBytes);
  // an fs error no check foresaw still comes out as one line naming the path
  const { explainFsError } = await import('../src/lib/util/checkpath');
  let raw: unknown;
  try {
    fs.writeFileSync(folder, 'x');
  } catch (err) {
    raw = err;
  }
  assert.match(explainFsError(raw), /a-folder: is a folder where a file was expected \(EISDIR\)/);
});

test('item 8: option values are checked up front', async () => {
  const cases: Array<[string[], RegExp]> = [
    [['eda', '--data', pristine, '--limit=-1'], /--limit must be an integer >= 1, got '-1'/],
    [['eda', '--data', pristine, '--samples', 'x'], /--samples must be an integer >= 0/],
    [['predict', '--classical', '--images', pristine, '--out', path.join(root, 's.csv'), '--score-threshold=-1'], /--score-threshold must be a number >= 0 and <= 1/],
    [['predict', '--classical', '--images', pristine, '--out', path.join(root, 's.csv'), '--merge-iou', '2'], /--merge-iou must be/],
    [['train', '--data', pristine, '--epochs', '0'], /--epochs must be an integer >= 1/],
    [['train', '--data', pristine, '--val-fraction', '1'], /--val-fraction must be a number >= 0 and < 1/],
    [['synth', '--out', path.join(root, 'n'), '--n', '2.5', '--seed', '1'], /--n must be an integer >= 1/],
    [['synth', '--out', path.join(root, 'n'), '--n', '2', '--seed', '1', '--forged-ratio', '1.5'], /--forged-ratio must be a number >= 0 and <= 1/],
  ];
  for (const [argv, message] of cases) {
    const t0 = Date.now();
    const r = await sifd(...argv);
    assert.equal(r.code, 2, `${argv.join(' ')}: ${r.err}`);
    assert.match(r.err, message);
    assert.ok(Date.now() - t0 < 2000);
  }
});

test('item 1/8: temp files are random, created exclusively, and a dead writer\'s leftovers are cleaned at the next start', () => {
  const dir = fs.mkdtempSync(path.join(root, 'tmp-'));
  const target = path.join(dir, 'out.csv');
  const a = createTempFile(target);
  const b = createTempFile(target);
  fs.closeSync(a.fd);
  fs.closeSync(b.fd);
  assert.notEqual(a.file, b.file);
  assert.match(path.basename(a.file), new RegExp(`^\\.out\\.csv\\.tmp-${process.pid}-[0-9a-f]{16}$`));
  // a planted symlink at a temp name is never written through (O_EXCL | O_NOFOLLOW)
  fs.rmSync(a.file);
  fs.symlinkSync(path.join(dir, 'elsewhere'), a.file);
  assert.throws(() => fs.openSync(a.file, fs.constants.O_WRONLY | fs.constants.O_CREAT | fs.constants.O_EXCL));
  fs.rmSync(a.file);
  fs.rmSync(b.file);
  // leftovers of a process that no longer runs (pid 2^22 + 1 is above Linux's pid_max default) go; a live one's stay
  const dead = path.join(dir, `.out.csv.tmp-${2 ** 22 + 1}-deadbeef`);
  const deadDir = path.join(dir, `.ds.tmp-${2 ** 22 + 1}-abc`);
  fs.writeFileSync(dead, 'half');
  fs.mkdirSync(deadDir);
  const live = createTempDir(path.join(dir, 'ds'));
  writeFileAtomic(target, 'a,b\n');
  assert.ok(!fs.existsSync(dead), 'the dead writer\'s temp file is gone after the next write');
  assert.deepEqual(cleanStaleTemps(dir).sort(), [path.basename(deadDir)]);
  assert.ok(fs.existsSync(live), 'a running process keeps its temp folder');
  assert.deepEqual(fs.readdirSync(dir).sort(), [path.basename(live), 'out.csv']);
});

test('item 8: synth leftovers of a killed run beside the output are cleaned at the next start', async () => {
  const out = path.join(root, 'synth-leftovers');
  const stale = path.join(root, `.synth-leftovers.tmp-${2 ** 22 + 1}-1733000000000`);
  fs.mkdirSync(stale);
  fs.writeFileSync(path.join(stale, 'half.png'), 'x');
  const r = await sifd('synth', '--out', out, '--n', '2', '--seed', '1', '--min-size', '48', '--max-size', '64');
  assert.equal(r.code, 0, r.err);
  assert.ok(!fs.existsSync(stale));
  assert.deepEqual(fs.readdirSync(root).filter((n) => n.startsWith('.synth-leftovers')), []);
});

test('item 8: classical predict bounds its per-pixel memory: large images are detected on a downscaled copy, masks at full size', async () => {
  const big: Image = { data: new Uint8Array(600 * 400 * 3), width: 600, height: 400, channels: 3 };
  for (let i = 0; i < big.data.length; i++) big.data[i] = (i * 7919) % 251;
  const small = downscaleNearest(big, 300, 200);
  assert.equal(small.width, 300);
  assert.equal(small.data[0], big.data[3 * (1 + 600)], 'nearest: pixel values kept');
  assert.equal(boundPixels(big, CLASSICAL_MAX_PIXELS), big, 'small images are worked on as they are');
  const bounded = boundPixels(big, 60_000);
  assert.ok(bounded.width * bounded.height <= 60_000 && bounded.width === 300, `${bounded.width}x${bounded.height}`);
  assert.ok(CLASSICAL_MAX_PIXELS <= 4096 * 1024 && 8000 * 8000 > CLASSICAL_MAX_PIXELS, 'an 8000x8000 image is bounded');
  const rows = await predictImages(createClassicalPredictor({}, { maxPixels: 60_000 }), [{ caseId: 'big', file: 'big.png', load: async () => big }]);
  assert.equal(rows.length, 1);
});
