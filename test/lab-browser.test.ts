/**
 * Issue 20, items 9-11 end to end: `sifd lab` on a free loopback port, notebook 00 opened in a real
 * Chromium (Playwright + Debian chromium), Run All with the TypeScript kernel, then the page must
 * hold the Plotly chart, a table, an image with its visible caption and a progress bar; saving the
 * notebook leaves the tracked file unchanged; the lab is stopped by its PID.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { spawn } from 'child_process';
import * as crypto from 'crypto';
import * as fs from 'fs';
import * as http from 'http';
import * as os from 'os';
import * as path from 'path';
import { repoPath } from '../src/lib/util/paths';
import { freePort } from '../src/lib/util/net';

const chromiumPath = ['/usr/bin/chromium', '/usr/bin/chromium-browser'].find((p) => fs.existsSync(p));
const venv = repoPath('environment', '.venv', 'bin', 'python');
const skip = !chromiumPath
  ? 'chromium is not installed here (CI installs Debian chromium; apt-get install chromium)'
  : !fs.existsSync(venv)
    ? 'the project venv is missing (npm test runs environment/setup.sh first)'
    : false;


function status(url: string): Promise<number> {
  return new Promise((resolve) => {
    const req = http.get(url, (res) => {
      res.resume();
      resolve(res.statusCode ?? 0);
    });
    req.on('error', () => resolve(0));
    req.setTimeout(2000, () => req.destroy());
  });
}

async function waitFor(what: string, ms: number, check: () => Promise<boolean>): Promise<void> {
  const end = Date.now() + ms;
  while (Date.now() < end) {
    if (await check()) return;
    await new Promise((r) => setTimeout(r, 500));
  }
  throw new Error(`timed out after ${ms / 1000} s waiting for ${what}`);
}

test('sifd lab: notebook 00 runs in Chromium with the TypeScript kernel; chart, table, captioned image, progress bar; saving leaves it unchanged', { skip, timeout: 600_000 }, async () => {
  const port = await freePort();
  const token = crypto.randomBytes(16).toString('hex');
  const notebook = repoPath('notebooks', '00_environment.ipynb');
  const tracked = fs.readFileSync(notebook);
  const home = fs.mkdtempSync(path.join(os.tmpdir(), 'sifd-lab-home-'));
  const log: string[] = [];
  const lab = spawn(
    process.execPath,
    [repoPath('bin', 'sifd.js'), 'lab', '--no-browser', `--port=${port}`, '--ServerApp.ip=127.0.0.1', `--IdentityProvider.token=${token}`, '--ServerApp.port_retries=0'],
    // HOME elsewhere: anything the lab wrote outside the project would land there
    { env: { ...process.env, SIFD_QUICK: '1', HOME: home }, stdio: ['ignore', 'pipe', 'pipe'] },
  );
  lab.stdout.on('data', (d: Buffer) => log.push(d.toString()));
  lab.stderr.on('data', (d: Buffer) => log.push(d.toString()));
  const exited = new Promise<number | null>((resolve) => lab.on('exit', (code) => resolve(code)));
  const base = `http://127.0.0.1:${port}`;
  // eslint-disable-next-line @typescript-eslint/no-var-requires
  const { chromium } = require('playwright-core') as typeof import('playwright-core');
  let browser: import('playwright-core').Browser | undefined;
  try {
    await waitFor('the lab to answer', 120_000, async () => (await status(`${base}/api/status?token=${token}`)) === 200);
    browser = await chromium.launch({
      executablePath: chromiumPath,
      args: ['--no-sandbox', '--disable-gpu', '--disable-dev-shm-usage', '--disable-background-networking', '--disable-component-update', '--no-first-run'],
    });
    const page = await browser.newPage({ viewport: { width: 1400, height: 1000 } });
    await page.goto(`${base}/lab/tree/00_environment.ipynb?token=${token}`);
    await page.waitForSelector('.jp-Notebook .jp-Cell', { timeout: 120_000 });
    await page.waitForFunction(() => /TypeScript\s*\|\s*Idle/.test(document.querySelector('.jp-StatusBar-Widget, #jp-main-statusbar')?.textContent ?? ''), undefined, { timeout: 120_000 });
    // Run > Run All Cells
    await page.locator('.lm-MenuBar-itemLabel', { hasText: /^Run$/ }).click();
    await page.locator('.lm-Menu-itemLabel', { hasText: /^Run All Cells$/ }).click();
    const cells = await page.locator('.jp-Notebook .jp-CodeCell').count();
    // every code cell done: an execution count and no [*]
    await page.waitForFunction(
      (n) => {
        const prompts = Array.from(document.querySelectorAll('.jp-Notebook .jp-CodeCell .jp-InputPrompt')).map((e) => e.textContent ?? '');
        return prompts.length === n && prompts.every((p) => /\[\d+\]/.test(p));
      },
      cells,
      { timeout: 300_000, polling: 1000 },
    );
    const errors = await page.locator('.jp-OutputArea-output[data-mime-type="application/vnd.jupyter.stderr"]').allTextContents();
    assert.deepEqual(errors, [], 'no cell wrote an error');
    // JupyterLab lays out only the cells in view: bring each output into view before looking at it
    const cell = async (text: string) => {
      const c = page.locator('.jp-Notebook .jp-CodeCell', { hasText: text }).first();
      await c.scrollIntoViewIfNeeded();
      return c;
    };
    // the Plotly chart (JupyterLab's plotly renderer or the inlined plotly.js)
    const plotCell = await cell('Plotly works');
    await plotCell.locator('.js-plotly-plot .main-svg').first().waitFor({ timeout: 60_000 });
    assert.ok((await plotCell.locator('.js-plotly-plot .scatterlayer .trace').count()) >= 2, 'both traces drawn');
    // a table
    assert.ok((await page.locator('.jp-OutputArea-output table').count()) >= 3, 'the version, backend and DataFrame tables');
    assert.ok((await page.locator('.jp-OutputArea-output table', { hasText: '@tensorflow/tfjs' }).count()) >= 1);
    // an image with its caption, visible
    const figure = (await cell('sharp-made test image')).locator('.jp-OutputArea-output figure', { hasText: 'sharp-made test image' });
    await figure.waitFor({ timeout: 30_000 });
    assert.ok(await figure.locator('figcaption').isVisible(), 'the caption is visible');
    const size = await figure.locator('img').evaluate((img) => [(img as HTMLImageElement).naturalWidth, (img as HTMLImageElement).naturalHeight]);
    assert.deepEqual(size, [192, 128]);
    // a progress bar, finished
    const bar = (await cell("label: 'demo'")).locator('.jp-OutputArea-output .sifd-progress progress');
    assert.ok((await bar.count()) >= 1, 'a progress bar is shown');
    const [value, max] = await bar.last().evaluate((p) => [(p as HTMLProgressElement).value, (p as HTMLProgressElement).max]);
    assert.ok(max > 0 && value === max, `progress ${value}/${max}`);

    // save: outputs are stripped, the tracked file stays byte for byte the same
    const mtime = fs.statSync(notebook).mtimeMs;
    await page.locator('.jp-Notebook').first().click();
    await page.keyboard.press('Control+s');
    await waitFor('the save', 30_000, async () => fs.statSync(notebook).mtimeMs > mtime);
    await new Promise((r) => setTimeout(r, 2000));
    const saved = fs.readFileSync(notebook);
    if (!saved.equals(tracked)) fs.writeFileSync(notebook, tracked);
    assert.equal(saved.toString(), tracked.toString(), 'running and saving notebook 00 leaves the tracked file unchanged');
    assert.deepEqual(fs.readdirSync(home), [], 'nothing written to HOME');
  } catch (err) {
    // what the page showed, for the failure report
    const page = browser?.contexts()[0]?.pages()[0];
    if (page) {
      const dir = repoPath('out', 'lab-browser-test');
      fs.mkdirSync(dir, { recursive: true });
      await page.screenshot({ path: path.join(dir, 'page.png'), fullPage: true }).catch(() => undefined);
      fs.writeFileSync(path.join(dir, 'outputs.html'), await page.locator('.jp-Notebook').innerHTML().catch(() => ''));
    }
    throw err;
  } finally {
    await browser?.close();
    if (lab.exitCode === null) lab.kill('SIGTERM');
    const code = await Promise.race([exited, new Promise<'timeout'>((r) => setTimeout(() => r('timeout'), 30_000))]);
    if (code === 'timeout') lab.kill('SIGKILL');
    fs.rmSync(home, { recursive: true, force: true });
    if (process.env.SIFD_TEST_VERBOSE) console.log(log.join(''));
  }
  assert.equal(await status(`${base}/api/status`), 0, 'the lab is stopped');
});
