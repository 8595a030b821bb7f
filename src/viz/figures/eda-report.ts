import type { EdaRow } from '../../lib/data/eda';
import { labelCounts, problemCounts, topImageSizes } from '../../lib/data/eda';
import { edaComparison, edaSummary } from '../../lib/data/eda-summary';
import type { Problem } from '../../lib/data/types';
import { escapeHtml, plotlyJs, type PlotlyFigure } from '../display-core';
import { renderTable } from '../table';
import { forgedAreaDistribution, instancesPerImage, partsPerEventFigure, sizeHistograms, sizeScatter } from './eda';

export interface EdaReportInput {
  root: string;
  rows: readonly EdaRow[];
  problems: readonly Problem[];
  /** PNG bytes of sample overlays, embedded as data URIs. */
  images?: ReadonlyArray<{ png: Buffer; caption: string }>;
}

/**
 * One self-contained HTML page: plotly.js inlined once (no CDN, works offline), tables, figures,
 * and images as data URIs.
 */
export function edaReportHtml(input: EdaReportInput): string {
  const { rows, problems } = input;
  const figures: PlotlyFigure[] = [sizeHistograms(rows), sizeScatter(rows), instancesPerImage(rows), forgedAreaDistribution(rows), partsPerEventFigure(rows)];
  const plots = figures
    .map((f, i) => {
      const spec = JSON.stringify({ data: f.data, layout: f.layout ?? {} }).replace(/</g, '\\u003c');
      return `<div id="plot${i}" class="plot"></div><script>(function(){var s=${spec};Plotly.newPlot('plot${i}',s.data,s.layout,{responsive:true});})();</script>`;
    })
    .join('\n');
  const images = (input.images ?? [])
    .map((im) => `<figure><img src="data:image/png;base64,${im.png.toString('base64')}" alt="${escapeHtml(im.caption)}"><figcaption>${escapeHtml(im.caption)}</figcaption></figure>`)
    .join('\n');
  const problemTable = problems.length
    ? renderTable(problems.map((p) => ({ kind: p.kind, file: p.file, reason: p.reason })), { maxRows: 200, caption: 'Every problem' })
    : '<p>No problems found.</p>';
  return `<!DOCTYPE html>
<html><head><meta charset="utf-8"><title>sifd EDA: ${escapeHtml(input.root)}</title>
<style>body{font-family:sans-serif;margin:2em;max-width:1200px}table{border-collapse:collapse;margin:1em 0}td,th{border:1px solid #ccc;padding:2px 8px;text-align:right}
.plot{width:100%;min-height:360px}figure{display:inline-block;margin:4px;text-align:center}img{max-width:280px;max-height:280px}</style>
<script>${plotlyJs().replace(/<\/script/gi, '<\\/script')}</script></head>
<body><h1>Dataset EDA</h1><p>Root: <code>${escapeHtml(input.root)}</code>: ${rows.length} images, ${problems.length} problems.</p>
<h2>Images per split and label</h2>${renderTable(labelCounts(rows))}
<h2>This set beside the real competition's training data</h2>${renderTable(edaComparison(edaSummary(rows)), { maxRows: 200 })}
<h2>Most common image sizes</h2>${renderTable(topImageSizes(rows, 15))}
<h2>Problems</h2>${problems.length ? renderTable(problemCounts(problems), { caption: 'Problems per kind' }) : ''}${problemTable}
<h2>Figures</h2>${plots}
${images ? `<h2>Samples with mask overlays</h2>${images}` : ''}
</body></html>
`;
}
