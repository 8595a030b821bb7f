/**
 * Issue 26, `sifd screen report`: an offline HTML report of a result store, opened in headless Chromium (Playwright +
 * Debian chromium; skipped when chromium is absent): flagged images sorted by score with loaded overlay thumbnails
 * and their regions, a column sort on click, counts per folder, failures with their reasons, no network request.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import * as fs from 'fs';
import * as os from 'os';
import * as path from 'path';
import { pathToFileURL } from 'url';
import { writePng } from '../src/lib/data/image-io';
import { encodeAnnotation } from '../src/lib/metrics/rle';
import { hashFile, resultKey } from '../src/lib/screen/corpus';
import { ResultStore } from '../src/lib/screen/store';
import type { ScreenResult } from '../src/lib/screen/types';
import { sifdInProcess } from './helpers/cli';

const chromiumPath = ['/usr/bin/chromium', '/usr/bin/chromium-browser'].find((p) => fs.existsSync(p));

const W = 64;
const H = 48;

/** A store with two flagged images (scores 0.9 and 0.6), one authentic, one failed and one PDF not screened. */
async function makeStore(dir: string): Promise<string> {
  const files: Array<{ path: string; folder: string; sha256: string; key: string; detector: string }> = [];
  const results: ScreenResult[] = [];
  const box = (x0: number, y0: number) => {
    const data = new Uint8Array(2 * W * H);
    for (let y = y0; y < y0 + 8; y++) for (let x = x0; x < x0 + 8; x++) (data[y * W + x] = 1), (data[W * H + y * W + x + 20] = 1);
    return encodeAnnotation({ data, count: 2, width: W, height: H });
  };
  const put = async (folder: string, name: string, seed: number, r: Partial<ScreenResult>) => {
    const data = new Uint8Array(W * H * 3).map((_, i) => (i * seed) % 251);
    const file = path.join(dir, folder, name);
    fs.mkdirSync(path.dirname(file), { recursive: true });
    await writePng(file, { data, width: W, height: H, channels: 3 });
    const sha256 = hashFile(file);
    const key = resultKey(sha256, 'classical-test');
    files.push({ path: file, folder, sha256, key, detector: 'classical-test' });
    results.push({
      key, sha256, detector: 'classical-test', status: 'done', verdict: 'authentic', score: 0, annotation: 'authentic', scores: [],
      width: W, height: H, msRead: 1, msDetect: 2, error: null, attempts: 1, worker: 'test:1', ...r,
    });
  };
  await put('lab-a', 'low.png', 3, { verdict: 'forged', score: 0.6, annotation: box(4, 4), scores: [0.6, 0.5] });
  await put('lab-b', 'high.png', 5, { verdict: 'forged', score: 0.9, annotation: box(10, 20), scores: [0.9, 0.7] });
  await put('lab-b', 'clean.png', 7, {});
  await put('lab-b', 'bad.png', 11, { status: 'failed', verdict: null, score: null, annotation: null, width: null, height: null, error: 'bad.png: cannot decode image: truncated' });
  const db = path.join(dir, 'results.sqlite');
  const store = ResultStore.open(db);
  try {
    store.recordFiles(files, [{ path: path.join(dir, 'lab-a', 'paper.pdf'), reason: 'PDF: figure extraction from PDFs is not supported' }]);
    for (const r of results) store.upsert(r);
  } finally {
    store.close();
  }
  return db;
}

test('sifd screen report: offline HTML, flagged by score with thumbnails and regions, sortable, per-folder counts, failures (headless Chromium)', { skip: chromiumPath ? false : 'chromium is not installed here (CI installs Debian chromium; apt-get install chromium)', timeout: 300_000 }, async () => {
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'sifd-screen-report-'));
  const db = await makeStore(dir);
  const out = path.join(dir, 'report.html');
  const r = await sifdInProcess('screen', 'report', '--db', db, '--out', out);
  assert.equal(r.code, 0, r.err);
  assert.match(r.out, /2 flagged \(2 thumbnails\), 1 failed, 1 not screened, 2 folder\(s\)/);
  assert.doesNotMatch(fs.readFileSync(out, 'utf8'), /(src|href)="https?:/, 'nothing loaded from the network');

  const { chromium } = require('playwright-core') as typeof import('playwright-core');
  const browser = await chromium.launch({ executablePath: chromiumPath, args: ['--no-sandbox', '--disable-gpu', '--disable-dev-shm-usage', '--disable-background-networking', '--no-first-run'] });
  try {
    const page = await browser.newPage();
    const remote: string[] = [];
    await page.route('**/*', (route) => {
      const url = route.request().url();
      if (url.startsWith('file:') || url.startsWith('data:')) return route.continue();
      remote.push(url);
      return route.abort();
    });
    await page.goto(pathToFileURL(out).href);
    const paths = () => page.$$eval('#flagged tbody tr', (rows) => rows.map((tr) => (tr as HTMLTableRowElement).cells[2].textContent ?? ''));
    assert.deepEqual((await paths()).map((p) => path.basename(p)), ['high.png', 'low.png'], 'sorted by score, highest first');
    const sizes = await page.$$eval('#flagged img', (imgs) => imgs.map((i) => [(i as HTMLImageElement).complete, (i as HTMLImageElement).naturalWidth]));
    assert.deepEqual(sizes, [[true, W], [true, W]], 'both overlay thumbnails decode');
    const regions = await page.$eval('#flagged tbody tr', (tr) => (tr as HTMLTableRowElement).cells[5].textContent ?? '');
    assert.match(regions, /event 1: 64 px in 8x8 at \(10, 20\), score 0\.900.*event 2: 64 px in 8x8 at \(30, 20\)/);
    await page.click('#flagged th:first-child'); // the score column: ascending
    assert.deepEqual((await paths()).map((p) => path.basename(p)), ['low.png', 'high.png']);
    const folders = await page.$$eval('#folders tbody tr', (rows) => rows.map((tr) => Array.from((tr as HTMLTableRowElement).cells).map((c) => c.textContent)));
    assert.deepEqual(folders, [['lab-a', '1', '1', '0', '0', '0'], ['lab-b', '3', '1', '1', '1', '0']]);
    const failures = await page.$eval('#failures', (t) => t.textContent ?? '');
    assert.match(failures, /bad\.png.*cannot decode image: truncated/);
    assert.match(failures, /paper\.pdf.*not screened.*PDF: figure extraction/);
    assert.deepEqual(remote, []);
  } finally {
    await browser.close();
  }
  const missing = await sifdInProcess('screen', 'report', '--db', path.join(dir, 'none.sqlite'), '--out', out);
  assert.equal(missing.code, 1);
  assert.match(missing.err, /none\.sqlite: result store not found/);
  fs.rmSync(dir, { recursive: true });
});
