/**
 * The machinery behind `display.ts` (the curated surface notebooks import): MIME bundles, display
 * handles, plotly.js inlining, progress state. Library code may import from here; notebooks use
 * `display.ts`, whose tab completion lists only what a notebook calls.
 *
 * The one door to rich output. Inside a tslab kernel each call sends one Jupyter `display_data`
 * message (a MIME bundle); outside a kernel (CLI, tests) the same calls print plain text and
 * never throw, so library code can call them unconditionally.
 *
 * tslab's public `display` sends one MIME type per message; multi-MIME bundles (Plotly JSON +
 * offline HTML + text) go through tslab's internal `dist/jupyter` module, which is only set while
 * a cell executes in a kernel started from this project's own node_modules. That coupling lives
 * here and nowhere else.
 */
import * as fs from 'fs';
import { escapeHtml } from './html';
import { renderTable, tableText, type TableInput, type TableOptions } from './table';
import { serialiseKernelSends } from './kernel-sends';

serialiseKernelSends();

export { escapeHtml };

export type MimeBundle = Record<string, unknown>;

/** A Plotly figure as JSON (the same object Python's `fig.to_dict()` gives). */
export interface PlotlyFigure {
  data: unknown[];
  layout?: Record<string, unknown>;
  config?: Record<string, unknown>;
}

type WriteDisplayData = (
  msg: { data: MimeBundle; metadata: Record<string, unknown>; transient: { display_id?: string } },
  update: boolean,
) => void;

function kernelWriter(): WriteDisplayData | undefined {
  try {
    // eslint-disable-next-line @typescript-eslint/no-var-requires
    const jupyter = require('tslab/dist/jupyter') as { lastWriteDisplayData?: WriteDisplayData | null };
    return typeof jupyter.lastWriteDisplayData === 'function' ? jupyter.lastWriteDisplayData : undefined;
  } catch {
    return undefined;
  }
}

/** True while running inside a tslab kernel cell. */
export function inKernel(): boolean {
  return kernelWriter() !== undefined;
}

let displayCounter = 0;
function newDisplayId(): string {
  displayCounter += 1;
  return `sifd-${process.pid}-${Date.now().toString(36)}-${displayCounter}`;
}

/**
 * Send one bundle. Binary values (Uint8Array/Buffer) are base64-encoded as Jupyter expects.
 * Outside a kernel prints `bundle['text/plain']` (if any) and returns false.
 */
export function sendBundle(bundle: MimeBundle, opts: { displayId?: string; update?: boolean } = {}): boolean {
  const data: MimeBundle = {};
  for (const [mime, value] of Object.entries(bundle)) {
    data[mime] = value instanceof Uint8Array ? Buffer.from(value).toString('base64') : value;
  }
  const write = kernelWriter();
  if (write) {
    write({ data, metadata: {}, transient: opts.displayId ? { display_id: opts.displayId } : {} }, opts.update ?? false);
    return true;
  }
  const text = data['text/plain'];
  if (typeof text === 'string' && text.length > 0) console.log(text);
  return false;
}

export function html(s: string): void {
  sendBundle({ 'text/html': s, 'text/plain': htmlToText(s) });
}

export function markdown(s: string): void {
  sendBundle({ 'text/markdown': s, 'text/plain': s });
}

export function svg(s: string): void {
  sendBundle({ 'image/svg+xml': s, 'text/plain': `[svg image, ${s.length} chars]` });
}

/**
 * A PNG image. With a caption it is sent as HTML too (a figure with the caption under the image),
 * which JupyterLab and nbconvert prefer over the bare image, so the caption is visible.
 */
export function png(buf: Uint8Array, opts: { caption?: string } = {}): void {
  sendBundle(pngBundle(buf, opts));
}

export function pngBundle(buf: Uint8Array, opts: { caption?: string } = {}): MimeBundle {
  const size = pngSize(buf);
  const what = size ? `${size.width}x${size.height}` : 'unknown size';
  const bundle: MimeBundle = { 'image/png': buf, 'text/plain': `[png image ${what}, ${buf.length} bytes]${opts.caption ? ` ${opts.caption}` : ''}` };
  if (opts.caption) {
    const dims = size ? ` width="${size.width}" height="${size.height}"` : '';
    bundle['text/html'] =
      `<figure class="sifd-figure" style="margin:0.5em 0;display:inline-block;max-width:100%">` +
      `<img src="data:image/png;base64,${Buffer.from(buf).toString('base64')}"${dims} alt="${escapeHtml(opts.caption)}" style="max-width:100%;height:auto">` +
      `<figcaption style="font-size:0.9em;color:#555;text-align:center">${escapeHtml(opts.caption)}</figcaption></figure>`;
  }
  return bundle;
}

export function text(s: string): void {
  sendBundle({ 'text/plain': s });
}

/** An HTML table from records or a danfojs DataFrame, with dtype-aware formatting and a row limit. */
export function table(input: TableInput, opts: TableOptions = {}): void {
  sendBundle({ 'text/html': renderTable(input, opts), 'text/plain': tableText(input, opts) });
}

/**
 * One Plotly figure as one bundle: the Plotly MIME type (JupyterLab with the plotly extension),
 * offline HTML with plotly.js inlined (nbconvert HTML, VS Code), and a text summary.
 */
export function plot(figure: PlotlyFigure, opts: { displayId?: string; update?: boolean } = {}): void {
  sendBundle(plotBundle(figure), opts);
}

export function plotBundle(figure: PlotlyFigure, html: { library?: boolean } = {}): MimeBundle {
  return {
    'application/vnd.plotly.v1+json': { data: figure.data, layout: figure.layout ?? {}, config: figure.config ?? {} },
    'text/html': plotHtml(figure, html),
    'text/plain': plotText(figure),
  };
}

let plotlySource: string | undefined;
/** plotly.js source, read once from the installed plotly.js-dist-min (no CDN: there is no network). */
export function plotlyJs(): string {
  if (plotlySource === undefined) {
    plotlySource = fs.readFileSync(require.resolve('plotly.js-dist-min/plotly.min.js'), 'utf8');
  }
  return plotlySource;
}

let plotlyInlined = false;

function plotlyLibraryHtml(): string {
  return `<script type="text/javascript">if (!window.Plotly) {${plotlyJs().replace(/<\/script/gi, '<\\/script')}\n}</script>`;
}

/**
 * Offline HTML for one figure. plotly.js (4.6 MB) is inlined into the first figure a process shows
 * and later figures reuse `window.Plotly` from the same page (nbconvert HTML, VS Code); JupyterLab
 * renders the Plotly MIME type instead. Pass `{ standalone: true }` for a page of its own, or
 * `{ library: false }` when the library is already on the page (see `createHandle`).
 */
export function plotHtml(figure: PlotlyFigure, opts: { standalone?: boolean; library?: boolean } = {}): string {
  const id = `sifd-plot-${newDisplayId()}`;
  const spec = JSON.stringify({ data: figure.data, layout: figure.layout ?? {}, config: { responsive: true, ...(figure.config ?? {}) } })
    .replace(/</g, '\\u003c');
  const inline = opts.standalone || (opts.library !== false && !plotlyInlined);
  if (inline && !opts.standalone) plotlyInlined = true;
  // Draw now if plotly.js is loaded, else once the page has loaded (the library may come later on it).
  return (
    `<div id="${id}" class="sifd-plot" style="width:100%;min-height:360px"></div>${inline ? plotlyLibraryHtml() : ''}` +
    `<script type="text/javascript">(function(){var el=document.getElementById(${JSON.stringify(id)});var s=${spec};` +
    `function draw(){if(!window.Plotly){el.textContent='plotly.js is not loaded on this page: re-run the first plot cell of the notebook';return;}` +
    `window.Plotly.newPlot(el,s.data,s.layout,s.config);}` +
    `if(window.Plotly)draw();else window.addEventListener('load',draw);})();</script>`
  );
}

/**
 * Make sure plotly.js sits in an output that is never replaced: a figure inside an updatable
 * display loses its inlined library at the next update.
 */
function ensurePlotlyOnPage(): void {
  if (plotlyInlined) return;
  plotlyInlined = sendBundle({ 'text/html': plotlyLibraryHtml(), 'text/plain': '' });
}

function plotText(figure: PlotlyFigure): string {
  const title = figure.layout?.title;
  const name = typeof title === 'string' ? title : (title as { text?: string } | undefined)?.text;
  const kinds = figure.data.map((t) => (t as { type?: string }).type ?? 'scatter');
  return `[plot${name ? ` '${name}'` : ''}: ${figure.data.length} trace(s) ${[...new Set(kinds)].join(', ')}]`;
}

/** A display that later calls replace in place (Jupyter update_display_data). */
export interface DisplayHandle {
  readonly id: string;
  update(bundle: MimeBundle): void;
  html(s: string): void;
  plot(figure: PlotlyFigure): void;
  png(buf: Uint8Array): void;
}

export function createHandle(): DisplayHandle {
  const id = newDisplayId();
  let shown = false;
  const update = (bundle: MimeBundle) => {
    const sent = sendBundle(bundle, { displayId: id, update: shown });
    shown = shown || sent;
  };
  return {
    id,
    update,
    html: (s) => update({ 'text/html': s, 'text/plain': htmlToText(s) }),
    plot: (f) => {
      ensurePlotlyOnPage();
      update(plotBundle(f, { library: false }));
    },
    png: (b) => update({ 'image/png': b, 'text/plain': `[png image, ${b.length} bytes]` }),
  };
}

export interface Progress {
  /** Report `done` items finished so far, with optional metrics (loss, lr, ...). */
  update(done: number, info?: Record<string, number | string>): void;
  /** Mark finished (renders the final state). */
  done(info?: Record<string, number | string>): void;
}

export interface ProgressOptions {
  label?: string;
  /** Minimum milliseconds between renders; the last update always renders. */
  intervalMs?: number;
  /** Clock, injectable for tests. */
  now?: () => number;
  /** Where text progress goes outside a kernel (default: process.stderr). */
  stream?: { write(s: string): unknown; isTTY?: boolean };
}

/** A progress bar with rate and ETA that updates in place in a notebook, or prints a line in a terminal. */
export function progress(total: number, opts: ProgressOptions = {}): Progress {
  const now = opts.now ?? (() => Date.now());
  const interval = opts.intervalMs ?? 250;
  const stream = opts.stream ?? process.stderr;
  const start = now();
  const handle = inKernel() ? createHandle() : undefined;
  let lastRender = -Infinity;
  let lastDone = 0;
  let lastInfo: Record<string, number | string> | undefined;

  const render = (done: number, info: Record<string, number | string> | undefined, final: boolean) => {
    const state = progressState(total, done, (now() - start) / 1000, info, opts.label);
    if (handle) {
      handle.update({ 'text/html': progressHtml(state), 'text/plain': state.line });
    } else if (stream.isTTY) {
      stream.write(`\r${state.line}\u001b[K${final ? '\n' : ''}`);
    } else if (final || now() - lastRender >= Math.max(interval, 2000)) {
      stream.write(`${state.line}\n`);
    } else {
      return;
    }
    lastRender = now();
  };

  return {
    update(done, info) {
      lastDone = done;
      lastInfo = info ?? lastInfo;
      if (now() - lastRender >= interval || done >= total) render(done, lastInfo, false);
    },
    done(info) {
      render(lastDone >= total ? lastDone : Math.max(lastDone, total), info ?? lastInfo, true);
    },
  };
}

export interface ProgressState {
  fraction: number;
  rate: number;
  etaSeconds: number;
  line: string;
  label?: string;
  done: number;
  total: number;
  info?: Record<string, number | string>;
}

export function progressState(
  total: number,
  done: number,
  elapsedSeconds: number,
  info?: Record<string, number | string>,
  label?: string,
): ProgressState {
  const fraction = total > 0 ? Math.min(1, done / total) : 1;
  const rate = elapsedSeconds > 0 ? done / elapsedSeconds : 0;
  const etaSeconds = rate > 0 ? Math.max(0, (total - done) / rate) : NaN;
  const bar = '#'.repeat(Math.round(fraction * 20)).padEnd(20, '.');
  const extras = info ? Object.entries(info).map(([k, v]) => `${k}=${formatValue(v)}`).join(' ') : '';
  const line =
    `${label ? `${label} ` : ''}[${bar}] ${done}/${total} (${(fraction * 100).toFixed(0)}%) ` +
    `${rate.toFixed(rate < 10 ? 2 : 1)} it/s, elapsed ${formatDuration(elapsedSeconds)}, ETA ${formatDuration(etaSeconds)}` +
    (extras ? ` ${extras}` : '');
  return { fraction, rate, etaSeconds, line, label, done, total, info };
}

function progressHtml(s: ProgressState): string {
  const extras = s.info
    ? Object.entries(s.info).map(([k, v]) => `<b>${escapeHtml(k)}</b> ${escapeHtml(formatValue(v))}`).join(' &middot; ')
    : '';
  return (
    `<div class="sifd-progress" style="font-family:monospace">` +
    `${s.label ? `<span>${escapeHtml(s.label)}</span> ` : ''}` +
    `<progress value="${s.done}" max="${s.total}" style="width:240px;vertical-align:middle"></progress> ` +
    `${s.done}/${s.total} (${(s.fraction * 100).toFixed(0)}%) &middot; ${s.rate.toFixed(2)} it/s &middot; ` +
    `elapsed ${formatDuration((s.done / (s.rate || 1)) || 0)} &middot; ETA ${formatDuration(s.etaSeconds)}` +
    `${extras ? ` &middot; ${extras}` : ''}</div>`
  );
}

export function formatDuration(seconds: number): string {
  if (!Number.isFinite(seconds)) return '?';
  const s = Math.round(seconds);
  const h = Math.floor(s / 3600);
  const m = Math.floor((s % 3600) / 60);
  const sec = s % 60;
  const mm = String(m).padStart(h > 0 ? 2 : 1, '0');
  return `${h > 0 ? `${h}:` : ''}${mm}:${String(sec).padStart(2, '0')}`;
}

function formatValue(v: number | string): string {
  if (typeof v === 'string') return v;
  if (Number.isInteger(v)) return String(v);
  return Math.abs(v) >= 1e-3 && Math.abs(v) < 1e4 ? v.toFixed(4) : v.toExponential(3);
}

function htmlToText(s: string): string {
  return s
    .replace(/<(script|style)[\s\S]*?<\/\1>/gi, '')
    .replace(/<br\s*\/?>|<\/(p|div|h\d|tr|li)>/gi, '\n')
    .replace(/<[^>]+>/g, '')
    .replace(/&lt;/g, '<')
    .replace(/&gt;/g, '>')
    .replace(/&quot;/g, '"')
    .replace(/&amp;/g, '&')
    .replace(/\n{3,}/g, '\n\n')
    .trim();
}

/** Width and height from a PNG's IHDR chunk, without decoding. */
function pngSize(buf: Uint8Array): { width: number; height: number } | undefined {
  if (buf.length < 24 || buf[0] !== 0x89 || buf[1] !== 0x50) return undefined;
  const view = new DataView(buf.buffer, buf.byteOffset, buf.byteLength);
  return { width: view.getUint32(16), height: view.getUint32(20) };
}
