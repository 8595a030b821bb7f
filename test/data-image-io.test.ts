import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import * as fs from 'fs';
import * as os from 'os';
import * as path from 'path';
import sharp from 'sharp';
import { encodePng, imageInfo, pngHeaderInfo, readImage, writePng } from '../src/lib/data/image-io';
import { DatasetError } from '../src/lib/errors';

const W = 7;
const H = 5;
let dir: string;
// Source pixels: value of channel c at pixel p.
const rgb = Buffer.from(Array.from({ length: W * H * 3 }, (_, i) => (i * 37) % 256));
const gray = Buffer.from(Array.from({ length: W * H }, (_, i) => (i * 11) % 256));
const rgba = Buffer.from(Array.from({ length: W * H * 4 }, (_, i) => (i % 4 === 3 ? 128 : (i * 29) % 256)));
const wide = new Uint16Array(Array.from({ length: W * H * 3 }, (_, i) => i * 1000));

const raw = (data: Buffer, channels: 1 | 3 | 4) => sharp(data, { raw: { width: W, height: H, channels } });

before(async () => {
  dir = fs.mkdtempSync(path.join(os.tmpdir(), 'sifd-imgio-'));
  await raw(rgb, 3).png().toFile(path.join(dir, 'rgb.png'));
  await raw(gray, 1).toColourspace('b-w').png().toFile(path.join(dir, 'gray.png'));
  await raw(rgba, 4).png().toFile(path.join(dir, 'rgba.png'));
  // 8 colours: the palette holds them exactly, so decoding must give the source back.
  const few = Buffer.from(rgb.map((v) => (v >> 7) * 255));
  fs.writeFileSync(path.join(dir, 'few.raw'), few);
  await raw(few, 3).png({ palette: true, colours: 8, dither: 0 }).toFile(path.join(dir, 'palette.png'));
  await sharp(wide, { raw: { width: W, height: H, channels: 3 } }).toColourspace('rgb16').png().toFile(path.join(dir, 'rgb16.png'));
  await raw(rgb, 3).tiff({ compression: 'lzw' }).toFile(path.join(dir, 'rgb.tif'));
  await raw(rgb, 3).webp({ lossless: true }).toFile(path.join(dir, 'rgb.webp'));
  await raw(rgb, 3).jpeg({ quality: 100 }).toFile(path.join(dir, 'plain.jpg'));
  // EXIF orientation 6: stored 7x5, displayed rotated 90 degrees clockwise (5 wide, 7 high).
  await raw(rgb, 3).jpeg({ quality: 100 }).withMetadata({ orientation: 6 }).toFile(path.join(dir, 'rot6.jpg'));
  fs.writeFileSync(path.join(dir, 'garbage.png'), 'not a png at all');
  const good = fs.readFileSync(path.join(dir, 'rgb.png'));
  fs.writeFileSync(path.join(dir, 'truncated.png'), good.subarray(0, good.length - 30));
});

after(() => fs.rmSync(dir, { recursive: true, force: true }));

test('RGB, RGBA, gray, palette, TIFF and lossless WebP decode to the source RGB pixels', async () => {
  for (const name of ['rgb.png', 'rgb.tif', 'rgb.webp']) {
    const im = await readImage(path.join(dir, name));
    assert.deepEqual([im.width, im.height, im.channels], [W, H, 3], name);
    assert.ok(im.data instanceof Uint8Array);
    assert.deepEqual(Buffer.from(im.data), rgb, name);
  }
  const g = await readImage(path.join(dir, 'gray.png'));
  assert.deepEqual(Array.from(g.data), Array.from(gray).flatMap((v) => [v, v, v]));
  const a = await readImage(path.join(dir, 'rgba.png'));
  assert.deepEqual(Array.from(a.data), Array.from({ length: W * H }, (_, p) => [rgba[p * 4], rgba[p * 4 + 1], rgba[p * 4 + 2]]).flat());
  const pal = await readImage(path.join(dir, 'palette.png'));
  assert.deepEqual(Buffer.from(pal.data), fs.readFileSync(path.join(dir, 'few.raw')));
});

test('16-bit: 8-bit by default, kept on request', async () => {
  const file = path.join(dir, 'rgb16.png');
  const kept = await readImage(file, { keep16bit: true });
  assert.ok(kept.data instanceof Uint16Array);
  assert.deepEqual(Array.from(kept.data), Array.from(wide));
  const eight = await readImage(file);
  assert.ok(eight.data instanceof Uint8Array);
  // samples up to 4,000 x 47 use all 16 bits: >> 8, as libvips reduces them
  assert.ok(Math.max(...wide) >= 32768);
  assert.deepEqual(Array.from(eight.data), Array.from(wide, (v) => v >> 8));
  // An 8-bit file stays 8-bit even with keep16bit.
  assert.ok((await readImage(path.join(dir, 'rgb.png'), { keep16bit: true })).data instanceof Uint8Array);
});

test('16-bit files that use fewer bits (a 12-bit camera, 8-bit values in a 16-bit file) keep their grey levels', async () => {
  for (const [bits, name] of [[12, 'gray12.png'], [8, 'gray8in16.png'], [10, 'rgb10.png']] as const) {
    const channels = name.startsWith('rgb') ? 3 : 1;
    // the brightest sample at the top of its bit depth, as a camera's saturated pixel is
    const values = Uint16Array.from({ length: W * H * channels }, (_, i) => (i === 0 ? (1 << bits) - 1 : (i * 37) % (1 << bits)));
    const file = path.join(dir, name);
    const pipeline = sharp(values, { raw: { width: W, height: H, channels } }).toColourspace(channels === 1 ? 'grey16' : 'rgb16');
    await pipeline.png().toFile(file);
    const img = await readImage(file);
    assert.ok(img.data instanceof Uint8Array, name);
    const expected = Array.from(values, (v) => v >> (bits - 8));
    const got = channels === 3 ? Array.from(img.data) : Array.from(img.data).filter((_, i) => i % 3 === 0);
    assert.deepEqual(got, expected, `${name}: not read by its ${bits} bits`);
    assert.ok(Math.max(...img.data) >= 250, `${name}: the brightest sample reads ${Math.max(...img.data)}, not near white`);
  }
});

test('EXIF orientation is applied (pixels and header size)', async () => {
  const plain = await readImage(path.join(dir, 'plain.jpg'));
  const rot = await readImage(path.join(dir, 'rot6.jpg'));
  assert.deepEqual([rot.width, rot.height], [H, W]);
  // Orientation 6 = rotate 90 clockwise: displayed (x, y) comes from stored (y, H-1-x).
  let maxDiff = 0;
  for (let y = 0; y < W; y++) {
    for (let x = 0; x < H; x++) {
      for (let c = 0; c < 3; c++) {
        const stored = plain.data[((H - 1 - x) * W + y) * 3 + c];
        maxDiff = Math.max(maxDiff, Math.abs(rot.data[(y * H + x) * 3 + c] - stored));
      }
    }
  }
  assert.ok(maxDiff <= 2, `rotated pixels differ by ${maxDiff}`);
  const info = await imageInfo(path.join(dir, 'rot6.jpg'));
  assert.deepEqual([info.width, info.height, info.orientation, info.format], [H, W, 6, 'jpeg']);
});

test('imageInfo agrees with sharp metadata for every mode, PNG fast path included', async () => {
  const expected: Record<string, [number, number, boolean]> = {
    'rgb.png': [3, 8, false], 'gray.png': [1, 8, false], 'rgba.png': [4, 8, false], 'palette.png': [3, 8, true],
    'rgb16.png': [3, 16, false], 'rgb.tif': [3, 8, false], 'rgb.webp': [3, 8, false], 'plain.jpg': [3, 8, false],
  };
  for (const [name, [channels, bitDepth, palette]] of Object.entries(expected)) {
    const file = path.join(dir, name);
    const info = await imageInfo(file);
    const meta = await sharp(file).metadata();
    assert.deepEqual(
      [info.width, info.height, info.channels, info.bitDepth, info.palette, info.format, info.bytes],
      [W, H, channels, bitDepth, palette, meta.format, fs.statSync(file).size],
      name,
    );
    assert.equal(info.channels, meta.channels, name);
    if (name.endsWith('.png')) assert.ok(pngHeaderInfo(fs.readFileSync(file)), `${name} takes the fast path`);
  }
});

test('corrupt and missing files fail with a DatasetError naming the file', async () => {
  for (const [name, reason] of [['garbage.png', /cannot decode image/], ['missing.png', /image file not found/]] as const) {
    const file = path.join(dir, name);
    await assert.rejects(imageInfo(file), (e: unknown) => e instanceof DatasetError && e.file === file && reason.test(e.message));
    await assert.rejects(readImage(file), (e: unknown) => e instanceof DatasetError && e.file === file && reason.test(e.message));
  }
  // A truncated PNG is caught from its header check already (its last bytes are not IEND), not only when decoded.
  const truncated = path.join(dir, 'truncated.png');
  await assert.rejects(imageInfo(truncated), (e: unknown) => e instanceof DatasetError && e.file === truncated && /truncated PNG/.test(e.message));
  await assert.rejects(readImage(truncated), (e: unknown) => e instanceof DatasetError && e.file === truncated);
});

test('writePng round-trips 8-bit RGB, gray and 16-bit images', async () => {
  const cases = [
    { data: new Uint8Array(rgb), width: W, height: H, channels: 3 },
    { data: new Uint8Array(gray), width: W, height: H, channels: 1 },
    { data: wide, width: W, height: H, channels: 3 },
  ];
  for (const [i, image] of cases.entries()) {
    const file = path.join(dir, `written${i}.png`);
    await writePng(file, image);
    const info = await imageInfo(file);
    assert.deepEqual([info.channels, info.bitDepth], [image.channels, image.data instanceof Uint16Array ? 16 : 8]);
    const back = await readImage(file, { keep16bit: true });
    const expected = image.channels === 1 ? Array.from(image.data).flatMap((v) => [v, v, v]) : Array.from(image.data);
    assert.deepEqual(Array.from(back.data), expected);
  }
  assert.deepEqual(fs.readdirSync(dir).filter((f) => f.includes('.tmp-')), [], 'no temp files left');
  await assert.rejects(encodePng({ data: new Uint8Array(5), width: W, height: H, channels: 3 }), /expected 5x7x3/);
});
