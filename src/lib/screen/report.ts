/**
 * The screening report: one offline HTML file (no CDN, thumbnails inlined as data: URIs) with the flagged images
 * sorted by score, each with its overlay thumbnail (viz/overlay.ts) and its matched regions, counts per folder,
 * and every failure with its reason. Table columns sort on click (a few lines of inline script).
 */
import { readImage } from '../data/image-io';
import type { Masks } from '../data/types';
import { decodeAnnotation } from '../metrics/rle';
import { writeFileAtomic } from '../util/atomic';
import { escapeHtml } from '../../viz/html';
import { overlayMasks } from '../../viz/overlay';
import { ResultStore, type FolderCounts, type StoredRow } from './store';

export interface ReportOptions {
  /** Flagged images that get a thumbnail (the highest scores; default 500). The table lists them all. */
  maxThumbnails?: number;
  /** Longer side of a thumbnail in pixels (default 192). */
  thumbSize?: number;
}

export interface ReportSummary {
  flagged: number;
  failed: number;
  skipped: number;
  folders: number;
  thumbnails: number;
}

/** Bounding box and area of each event, for the "matched regions" column. */
export function eventRegions(masks: Masks): Array<{ x: number; y: number; w: number; h: number; area: number }> {
  const { width: W, height: H } = masks;
  const out = [];
  for (let n = 0; n < masks.count; n++) {
    const m = masks.data.subarray(n * W * H, (n + 1) * W * H);
    let x0 = W, y0 = H, x1 = -1, y1 = -1, area = 0;
    for (let p = 0; p < m.length; p++) {
      if (!m[p]) continue;
      const x = p % W, y = (p - x) / W;
      area += 1;
      if (x < x0) x0 = x;
      if (x > x1) x1 = x;
      if (y < y0) y0 = y;
      if (y > y1) y1 = y;
    }
    out.push({ x: x0, y: y0, w: x1 - x0 + 1, h: y1 - y0 + 1, area });
  }
  return out;
}

async function thumbnail(row: StoredRow, size: number): Promise<{ uri?: string; regions: string; problem?: string }> {
  if (!row.annotation || !row.width || !row.height) return { regions: '' };
  const masks = decodeAnnotation(row.annotation, row.height, row.width, row.path);
  const regions = eventRegions(masks)
    .map((r, i) => `event ${i + 1}: ${r.area} px in ${r.w}x${r.h} at (${r.x}, ${r.y})${row.scores[i] !== undefined ? `, score ${row.scores[i].toFixed(3)}` : ''}`)
    .join('<br>');
  try {
    const image = await readImage(row.path);
    if (image.width !== row.width || image.height !== row.height) return { regions, problem: 'the file changed since it was screened' };
    const png = await overlayMasks(image, masks, { maxSize: size });
    return { uri: `data:image/png;base64,${png.toString('base64')}`, regions };
  } catch (err) {
    return { regions, problem: `no thumbnail: ${(err as Error).message}` };
  }
}

const td = (v: string | number, sortValue?: string | number) =>
  `<td${sortValue !== undefined ? ` data-v="${escapeHtml(String(sortValue))}"` : ''}>${typeof v === 'number' ? v : v}</td>`;

function table(id: string, head: string[], rows: string[]): string {
  return `<table id="${id}" class="sortable"><thead><tr>${head.map((h) => `<th>${escapeHtml(h)}</th>`).join('')}</tr></thead>` +
    `<tbody>${rows.join('\n')}</tbody></table>`;
}

function folderRows(counts: FolderCounts[]): string[] {
  return counts.map((c) => `<tr>${td(escapeHtml(c.folder))}${td(c.images, c.images)}${td(c.forged, c.forged)}${td(c.authentic, c.authentic)}${td(c.failed, c.failed)}${td(c.pending, c.pending)}</tr>`);
}

const SORT_SCRIPT = `
document.querySelectorAll('table.sortable th').forEach((th, col) => th.addEventListener('click', () => {
  const body = th.closest('table').tBodies[0];
  const asc = th.dataset.dir !== 'asc';
  th.closest('tr').querySelectorAll('th').forEach((h) => delete h.dataset.dir);
  th.dataset.dir = asc ? 'asc' : 'desc';
  const key = (tr) => { const c = tr.cells[col]; const v = c.dataset.v ?? c.textContent; const n = Number(v); return v !== '' && !isNaN(n) ? n : v; };
  const rows = [...body.rows].sort((a, b) => { const x = key(a), y = key(b); return (x < y ? -1 : x > y ? 1 : 0) * (asc ? 1 : -1); });
  rows.forEach((r) => body.appendChild(r));
}));`;

const STYLE = `body{font-family:sans-serif;margin:1.5em}table{border-collapse:collapse;margin:1em 0}td,th{border:1px solid #ccc;padding:4px 8px;vertical-align:top;font-size:13px}
th{background:#f0f0f0;cursor:pointer;user-select:none}th[data-dir=asc]::after{content:" \\25B2"}th[data-dir=desc]::after{content:" \\25BC"}img{display:block}code{font-size:12px}`;

/** Render the report of `store` as HTML text. */
export async function renderReport(store: ResultStore, opts: ReportOptions = {}): Promise<{ html: string; summary: ReportSummary }> {
  const maxThumbs = opts.maxThumbnails ?? 500;
  const size = opts.thumbSize ?? 192;
  const flagged = store.rows('forged');
  const failed = store.rows('failed');
  const skipped = store.skipped();
  const folders = store.folderCounts();
  let thumbs = 0;
  const flaggedRows: string[] = [];
  for (const [i, r] of flagged.entries()) {
    const t = i < maxThumbs ? await thumbnail(r, size) : { regions: '', uri: undefined, problem: undefined };
    if (t.uri) thumbs += 1;
    const img = t.uri ? `<img src="${t.uri}" alt="overlay">` : escapeHtml(t.problem ?? '');
    flaggedRows.push(`<tr>${td((r.score ?? 0).toFixed(3), r.score ?? 0)}${td(img, '')}${td(`<code>${escapeHtml(r.path)}</code>`, r.path)}` +
      `${td(escapeHtml(r.folder))}${td(r.scores.length, r.scores.length)}${td(t.regions, '')}${td(`${r.width}x${r.height}`, (r.width ?? 0) * (r.height ?? 0))}</tr>`);
  }
  const failRows = [
    ...failed.map((r) => `<tr>${td(`<code>${escapeHtml(r.path)}</code>`, r.path)}${td('failed')}${td(r.attempts, r.attempts)}${td(escapeHtml(r.error ?? ''))}</tr>`),
    ...skipped.map((s) => `<tr>${td(`<code>${escapeHtml(s.path)}</code>`, s.path)}${td('not screened')}${td(0, 0)}${td(escapeHtml(s.reason))}</tr>`),
  ];
  const total = folders.reduce((a, c) => a + c.images, 0);
  const detectors = [...new Set(store.results().map((r) => r.detector))];
  const html = `<!doctype html><html><head><meta charset="utf-8"><title>sifd screening report</title><style>${STYLE}</style></head><body>
<h1>Screening report</h1>
<p>${total} image files; <b>${flagged.length}</b> flagged, ${failed.length} failed, ${skipped.length} not screened.
Detector(s): ${detectors.map((d) => `<code>${escapeHtml(d)}</code>`).join(', ') || 'none'}. Store: <code>${escapeHtml(store.file)}</code>.</p>
<h2>Flagged images (by score)</h2>
${table('flagged', ['score', 'overlay', 'path', 'folder', 'events', 'matched regions', 'size'], flaggedRows)}
<h2>Per folder</h2>
${table('folders', ['folder', 'images', 'forged', 'authentic', 'failed', 'pending'], folderRows(folders))}
<h2>Failures</h2>
${table('failures', ['path', 'status', 'attempts', 'reason'], failRows)}
<script>${SORT_SCRIPT}</script>
</body></html>
`;
  return { html, summary: { flagged: flagged.length, failed: failed.length, skipped: skipped.length, folders: folders.length, thumbnails: thumbs } };
}

/** Write the report of the store at `db` to `out` (atomically). */
export async function writeReport(db: string, out: string, opts: ReportOptions = {}): Promise<ReportSummary> {
  const store = ResultStore.open(db, { readonly: true });
  try {
    const { html, summary } = await renderReport(store, opts);
    writeFileAtomic(out, html);
    return summary;
  } finally {
    store.close();
  }
}
