import { test } from 'node:test';
import assert from 'node:assert/strict';
import * as fs from 'fs';
import * as os from 'os';
import * as path from 'path';
import { main } from '../src/cli/main';

/** Run `sifd ...` in-process, capturing what it prints. */
async function sifd(args: string[]): Promise<{ code: number; out: string; err: string }> {
  const out: string[] = [];
  const err: string[] = [];
  const log = console.log;
  const error = console.error;
  const write = process.stderr.write.bind(process.stderr);
  console.log = (...a: unknown[]) => void out.push(a.join(' '));
  console.error = (...a: unknown[]) => void err.push(a.join(' '));
  process.stderr.write = ((s: string) => (err.push(String(s)), true)) as typeof process.stderr.write;
  try {
    return { code: await main(args), out: out.join('\n'), err: err.join('\n') };
  } finally {
    console.log = log;
    console.error = error;
    process.stderr.write = write;
  }
}

test('sifd synth: writes the dataset, refuses foreign folders and bad options with clear messages', async () => {
  const root = fs.mkdtempSync(path.join(os.tmpdir(), 'sifd-synth-cli-'));
  try {
    const out = path.join(root, 'ds');
    const ok = await sifd(['synth', '--out', out, '--n', '8', '--seed', '5', '--forged-ratio', '0.25', '--min-size', '64', '--max-size', '128', '--families', 'gel,chart']);
    assert.equal(ok.code, 0, ok.err);
    assert.match(ok.out, /wrote 8 images \(2 forged, 1 test, 2 twin pairs\)/);
    const manifest = JSON.parse(fs.readFileSync(path.join(out, 'manifest.json'), 'utf8'));
    assert.equal(manifest.images.length, 8);
    assert.ok(manifest.images.every((r: { family: string }) => r.family === 'gel' || r.family === 'chart'));
    assert.equal(manifest.images.filter((r: { label: string }) => r.label === 'forged').length, 2);

    const foreign = path.join(root, 'mine');
    fs.mkdirSync(foreign);
    fs.writeFileSync(path.join(foreign, 'keep.txt'), 'mine');
    const refused = await sifd(['synth', '--out', foreign, '--n', '2', '--seed', '1']);
    assert.equal(refused.code, 1);
    assert.match(refused.err, /DatasetError: .*mine: folder is not empty and was not created by sifd synth/);
    assert.deepEqual(fs.readdirSync(foreign), ['keep.txt']);

    const classic = await sifd(['synth', '--out', path.join(root, 'classic'), '--n', '6', '--seed', '5', '--generator', 'classic', '--max-size', '128']);
    assert.equal(classic.code, 0, classic.err);
    assert.match(classic.out, /wrote 6 images \(3 forged, 1 test\)/, 'classic: half forged, no twins');
    const badGenerator = await sifd(['synth', '--out', path.join(root, 'x'), '--n', '2', '--seed', '1', '--generator', 'realistik']);
    assert.equal(badGenerator.code, 2);
    assert.match(badGenerator.err, /unknown generator 'realistik'; did you mean 'realistic'/);

    const badFamily = await sifd(['synth', '--out', path.join(root, 'x'), '--n', '2', '--seed', '1', '--families', 'westernblot']);
    assert.equal(badFamily.code, 2);
    assert.match(badFamily.err, /unknown family 'westernblot'; did you mean 'western_blot'/);
    const noOut = await sifd(['synth', '--n', '2', '--seed', '1']);
    assert.equal(noOut.code, 2);
    assert.match(noOut.err, /missing required option --out/);
    const badSize = await sifd(['synth', '--out', path.join(root, 'x'), '--n', '2', '--seed', '1', '--min-size', '500', '--max-size', '100']);
    assert.equal(badSize.code, 2);
    assert.match(badSize.err, /--min-size 500 is above --max-size 100/);
    assert.ok(!fs.existsSync(path.join(root, 'x')));
    const help = await sifd(['synth', '--help']);
    assert.equal(help.code, 0);
    assert.match(help.out, /--forged-ratio R/);
  } finally {
    fs.rmSync(root, { recursive: true, force: true });
  }
});
