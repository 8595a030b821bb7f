import { test } from 'node:test';
import * as assert from 'node:assert/strict';
import * as dfd from 'danfojs-node';
import * as display from '../src/viz/display';
import * as displayCore from '../src/viz/display-core';
import { formatCell, renderTable, tableText } from '../src/viz/table';

type Sent = { data: Record<string, unknown>; transient: { display_id?: string }; update: boolean };

/** Pretend to be inside a tslab kernel: capture what display.ts would send to Jupyter. */
function captureKernel(fn: () => void): Sent[] {
  // eslint-disable-next-line @typescript-eslint/no-var-requires
  const jupyter = require('tslab/dist/jupyter') as { lastWriteDisplayData: unknown };
  const sent: Sent[] = [];
  const saved = jupyter.lastWriteDisplayData;
  jupyter.lastWriteDisplayData = (msg: Omit<Sent, 'update'>, update: boolean) => sent.push({ ...msg, update });
  try {
    fn();
  } finally {
    jupyter.lastWriteDisplayData = saved;
  }
  return sent;
}

const keys = (s: Sent) => Object.keys(s.data).sort();
const tinyPng = Buffer.from(
  'iVBORw0KGgoAAAANSUhEUgAAAAEAAAABCAYAAAAfFcSJAAAADUlEQVR42mP8z8BQDwAEhQGAhKmMIQAAAABJRU5ErkJggg==',
  'base64',
);

test('each display call sends exactly its MIME bundle', () => {
  const figure = { data: [{ x: [1, 2], y: [3, 4], type: 'scatter' }], layout: { title: { text: 'T' } } };
  const sent = captureKernel(() => {
    display.html('<b>hi</b>');
    display.markdown('# hi');
    display.png(tinyPng);
    display.svg('<svg xmlns="http://www.w3.org/2000/svg"></svg>');
    display.table([{ a: 1 }]);
    display.plot(figure);
    display.text('plain');
  });
  assert.equal(sent.length, 7);
  assert.deepEqual(keys(sent[0]), ['text/html', 'text/plain']);
  assert.deepEqual(keys(sent[1]), ['text/markdown', 'text/plain']);
  assert.deepEqual(keys(sent[2]), ['image/png', 'text/plain']);
  assert.deepEqual(keys(sent[3]), ['image/svg+xml', 'text/plain']);
  assert.deepEqual(keys(sent[4]), ['text/html', 'text/plain']);
  assert.deepEqual(keys(sent[5]), ['application/vnd.plotly.v1+json', 'text/html', 'text/plain']);
  assert.deepEqual(keys(sent[6]), ['text/plain']);
  // Binary payloads are base64 strings, as the Jupyter protocol wants.
  assert.equal(sent[2].data['image/png'], tinyPng.toString('base64'));
  assert.match(String(sent[2].data['text/plain']), /1x1/);
  // The Plotly JSON is the figure itself; the HTML carries plotly.js (no CDN) and the spec.
  const plotly = sent[5].data['application/vnd.plotly.v1+json'] as { data: unknown[]; layout: unknown };
  assert.deepEqual(plotly.data, figure.data);
  assert.deepEqual(plotly.layout, figure.layout);
  const html = String(sent[5].data['text/html']);
  assert.doesNotMatch(html, /<script[^>]+src=/, 'no external script: there is no network');
  assert.match(html, /plotly\.js v\d/);
  assert.match(String(sent[5].data['text/plain']), /plot 'T': 1 trace/);
  for (const s of sent) assert.equal(s.update, false);
});

test('plot HTML inlines plotly.js once per process, or always when standalone', () => {
  const fig = { data: [{ y: [1] }] };
  const a = displayCore.plotHtml(fig, { standalone: true });
  assert.ok(a.length > 1_000_000, 'standalone HTML carries plotly.js');
  const sent = captureKernel(() => {
    display.plot(fig);
    display.plot(fig);
  });
  const second = String(sent[1].data['text/html']);
  assert.ok(second.length < 10_000, 'a later figure reuses window.Plotly');
  assert.match(second, /window\.Plotly\.newPlot/);
});

test('outside a kernel every call prints text and never throws', () => {
  const lines: string[] = [];
  const orig = console.log;
  console.log = (s: unknown) => lines.push(String(s));
  try {
    display.html('<p>a &amp; b</p>');
    display.png(tinyPng);
    display.plot({ data: [] });
    display.table([{ n: 1234567, f: 0.123456 }]);
    display.markdown('**m**');
  } finally {
    console.log = orig;
  }
  assert.equal(lines[0], 'a & b');
  assert.match(lines[1], /png image 1x1/);
  assert.match(lines[2], /plot: 0 trace/);
  assert.match(lines[3], /1,234,567/);
  assert.match(lines[3], /0\.1235/);
  assert.equal(lines[4], '**m**');
});

test('progress updates one display in place with rate and ETA', () => {
  let t = 0;
  const sent = captureKernel(() => {
    const bar = display.progress(10, { label: 'train', intervalMs: 0, now: () => t });
    for (let i = 1; i <= 10; i++) {
      t += 500;
      bar.update(i, { loss: 1 / i });
    }
    bar.done();
  });
  assert.ok(sent.length >= 10);
  const ids = new Set(sent.map((s) => s.transient.display_id));
  assert.equal(ids.size, 1, 'one display id for the whole bar');
  assert.equal(sent[0].update, false);
  assert.ok(sent.slice(1).every((s) => s.update), 'later messages are update_display_data');
  const mid = String(sent[4].data['text/plain']);
  assert.match(mid, /train \[#{10}\.{10}\] 5\/10 \(50%\) 2\.00 it\/s/);
  assert.match(mid, /ETA 0:03/);
  assert.match(mid, /loss=0\.2000/);
  assert.match(String(sent[sent.length - 1].data['text/html']), /<progress value="10" max="10"/);
});

test('progress outside a kernel writes lines to its stream and never throws', () => {
  const out: string[] = [];
  let t = 0;
  const bar = display.progress(3, { now: () => t, stream: { write: (s: string) => out.push(s), isTTY: false } });
  for (let i = 1; i <= 3; i++) {
    t += 3000;
    bar.update(i);
  }
  bar.done();
  assert.ok(out.length >= 1);
  assert.match(out[out.length - 1], /3\/3 \(100%\)/);
});

test('tables format by dtype and elide rows beyond the limit', () => {
  const rows = Array.from({ length: 30 }, (_, i) => ({ id: `img_${i}`, width: 1000 + i, frac: i / 7, ok: i % 2 === 0 }));
  const html = renderTable(rows, { maxRows: 10, caption: 'C' });
  assert.match(html, /<caption>C<\/caption>/);
  assert.match(html, /20 more rows/);
  assert.match(html, /<td style="text-align:right">1,000<\/td>/);
  assert.match(html, /<th style="text-align:right" title="float">frac<\/th>/);
  assert.equal((html.match(/<tr>/g) ?? []).length, 1 + 10 + 1);
  assert.match(html, /30 rows &times; 4 columns/);
  const txt = tableText(rows, { maxRows: 4 });
  assert.match(txt, /26 more rows/);
  assert.equal(formatCell(0.000012345, 'float'), '1.234e-5');
  assert.equal(formatCell(NaN, 'float'), 'NaN');
  assert.equal(formatCell([1, 2.345678], 'object'), '[1,2.346]');
  assert.match(renderTable([{ s: '<script>' }]), /&lt;script&gt;/);
});

test('tables accept a danfojs DataFrame', () => {
  const df = new dfd.DataFrame({ label: ['authentic', 'forged'], n: [3, 5], area: [0, 0.25] });
  const html = renderTable(df as unknown as display.PlotlyFigure & never);
  assert.match(html, /<th[^>]*>label<\/th>/);
  assert.match(html, /forged/);
  assert.match(html, /0\.25/);
  const desc = (df as unknown as { describe(): unknown }).describe();
  assert.match(tableText(desc as never), /mean/);
});

test('a figure in an updatable display gets plotly.js from a separate output that is never replaced', () => {
  const sent = captureKernel(() => {
    const handle = display.handle();
    handle.plot({ data: [{ y: [1, 2] }] });
    handle.plot({ data: [{ y: [1, 2, 3] }] });
  });
  // A fresh process would first send the library on its own; this one may already have inlined it.
  const figures = sent.filter((s) => 'application/vnd.plotly.v1+json' in s.data);
  assert.equal(figures.length, 2);
  for (const f of figures) assert.ok(String(f.data['text/html']).length < 10_000, 'updates never carry the library');
  assert.equal(figures[1].update, true);
  assert.match(String(figures[1].data['text/html']), /addEventListener\('load',draw\)/);
});

test('png with a caption sends an HTML figure whose caption is visible (escaped) under the image', () => {
  const sent = captureKernel(() => display.png(tinyPng, { caption: 'forged <b>#3</b> & twin' }));
  assert.equal(sent.length, 1);
  assert.deepEqual(keys(sent[0]), ['image/png', 'text/html', 'text/plain']);
  const html = String(sent[0].data['text/html']);
  assert.match(html, /<figure[^>]*><img src="data:image\/png;base64,[A-Za-z0-9+/=]+" width="1" height="1"/);
  assert.match(html, /<figcaption[^>]*>forged &lt;b&gt;#3&lt;\/b&gt; &amp; twin<\/figcaption><\/figure>$/);
  // without a caption the bare image stays the whole bundle
  assert.deepEqual(keys(captureKernel(() => display.png(tinyPng))[0]), ['image/png', 'text/plain']);
});

test('the display module a notebook imports exposes the curated calls only, no internals', () => {
  assert.deepEqual(Object.keys(display).sort(), ['handle', 'html', 'markdown', 'plot', 'png', 'progress', 'svg', 'table', 'text']);
  for (const internal of ['createHandle', 'sendBundle', 'plotlyJs', 'progressState', 'escapeHtml', 'plotBundle', 'inKernel']) {
    assert.ok(!(internal in display), `${internal} is not on display`);
  }
});
