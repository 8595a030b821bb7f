/**
 * Every notebook executed through the real Jupyter (nbclient + the project's tslab kernel) with
 * SIFD_QUICK=1 on a small synthetic dataset, then the executed 00 notebook's HTML opened in
 * headless Chromium to prove the offline Plotly chart and the image render.
 */
import { before, test } from 'node:test';
import * as assert from 'node:assert/strict';
import * as fs from 'fs';
import * as os from 'os';
import * as path from 'path';
import { describeFailure, listNotebooks, notebooksDir, runNotebook } from '../src/lib/notebooks/runner';
import { generateDataset } from '../src/lib/data/synth/index';
import { repoPath } from '../src/lib/util/paths';

const outDir = repoPath('out', 'notebooks-test');
const work = fs.mkdtempSync(path.join(os.tmpdir(), 'sifd-notebooks-'));
const dataDir = path.join(work, 'data');

before(async () => {
  await generateDataset({ out: dataDir, n: 48, seed: 11, sizes: { min: 128, max: 384 } });
});

for (const name of listNotebooks()) {
  test(`notebook ${name} runs with SIFD_QUICK=1`, async () => {
    const result = await runNotebook(path.join(notebooksDir(), `${name}.ipynb`), {
      env: { SIFD_QUICK: '1', SIFD_DATA: dataDir, SIFD_RUNS: path.join(work, 'runs'), SIFD_OUT: path.join(work, 'out') },
      outDir,
      cellTimeout: 600,
    });
    assert.ok(result.ok, describeFailure(result));
  });
}

const chromiumPath = ['/usr/bin/chromium', '/usr/bin/chromium-browser'].find((p) => fs.existsSync(p));

test(
  'the executed 00 notebook renders its Plotly chart and image in Chromium',
  { skip: chromiumPath ? false : 'chromium is not installed here (CI installs Debian chromium; apt-get install chromium)' },
  async () => {
    const html = path.join(outDir, '00_environment.html');
    assert.ok(fs.existsSync(html), `missing ${html}: the notebook run above must have failed`);
    // eslint-disable-next-line @typescript-eslint/no-var-requires
    const { chromium } = require('playwright-core') as typeof import('playwright-core');
    const browser = await chromium.launch({
      executablePath: chromiumPath,
      args: ['--no-sandbox', '--disable-gpu', '--disable-background-networking', '--disable-component-update', '--no-first-run'],
    });
    try {
      const page = await browser.newPage();
      await page.goto(`file://${html}`);
      await page.waitForSelector('.main-svg', { timeout: 60_000 });
      const traces = await page.locator('.sifd-plot .scatterlayer .trace').count();
      assert.equal(traces, 2, 'both line traces are drawn');
      const images = await page.$$eval('img[src^="data:image/png"]', (els) =>
        els.map((e) => ({ w: (e as HTMLImageElement).naturalWidth, h: (e as HTMLImageElement).naturalHeight })),
      );
      assert.ok(images.some((i) => i.w === 192 && i.h === 128), `the 192x128 sharp image is shown; saw ${JSON.stringify(images)}`);
    } finally {
      await browser.close();
    }
  },
);
