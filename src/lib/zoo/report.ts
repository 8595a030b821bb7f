/**
 * The zoo's offline HTML report (plotly.js inlined once, no CDN) and its JSON, written atomically
 * into one folder.
 */
import * as fs from 'fs';
import * as path from 'path';
import { writeFileAtomic } from '../util/atomic';
import { escapeHtml, plotlyJs, type PlotlyFigure } from '../../viz/display-core';
import { renderTable } from '../../viz/table';
import type { ZooResult } from './compare';
import { curvesFigure } from './curves';
import { absentTable, familyTable, runsTable, transformTable, zooJson, zooTable } from './table';

/** The image-level and pixel-level PR and ROC figures of every scored detector. */
export function zooCurveFigures(result: ZooResult): PlotlyFigure[] {
  const scored = result.entries.filter((e) => e.detail);
  const image = scored.map((e) => ({ name: e.name, curve: e.detail!.curves.image }));
  const pixel = scored.filter((e) => e.detail!.curves.pixel).map((e) => ({ name: e.name, curve: e.detail!.curves.pixel! }));
  const figures = [curvesFigure(image, 'roc', 'image-level ROC (max event score)'), curvesFigure(image, 'pr', 'image-level PR (max event score)')];
  if (pixel.length) figures.push(curvesFigure(pixel, 'roc', 'pixel-level ROC (probability maps)'), curvesFigure(pixel, 'pr', 'pixel-level PR (probability maps)'));
  return figures;
}

export function zooReportHtml(result: ZooResult, command?: string): string {
  const plots = zooCurveFigures(result)
    .map((f, i) => {
      const spec = JSON.stringify({ data: f.data, layout: f.layout ?? {} }).replace(/</g, '\\u003c');
      return `<div id="plot${i}" class="plot"></div><script>(function(){var s=${spec};Plotly.newPlot('plot${i}',s.data,s.layout,{responsive:true});})();</script>`;
    })
    .join('\n');
  const absent = absentTable(result);
  const families = familyTable(result);
  const transforms = transformTable(result);
  const issues = [...result.problems.map((p) => ({ file: p.file, problem: `${p.kind}: ${p.reason}` })), ...result.unreadable.map((u) => ({ file: u.file, problem: `unreadable, skipped: ${u.reason}` }))];
  return `<!DOCTYPE html>
<html><head><meta charset="utf-8"><title>sifd model zoo</title>
<style>body{font-family:sans-serif;margin:2em;max-width:1400px}table{border-collapse:collapse;margin:1em 0}td,th{border:1px solid #ccc;padding:2px 8px}
.plot{width:100%;max-width:700px;min-height:380px;display:inline-block}</style>
<script>${plotlyJs().replace(/<\/script/gi, '<\\/script')}</script></head>
<body><h1>Model zoo</h1>
<p>${escapeHtml(result.date)}: ${result.valImages} validation images of <code>${escapeHtml(result.valData)}</code>; runs from <code>${escapeHtml(result.runs)}</code>.${command ? ` Command: <code>${escapeHtml(command)}</code>` : ''}</p>
<h2>Every detector on the same images</h2>
${renderTable(zooTable(result), { maxRows: 100 })}
<p>oF1: the Kaggle score; authentic_clean: share of authentic images predicted exactly authentic; forged_detected: share of forged images with a prediction; of1_forged: mean oF1 on forged images; dice/iou pos (forged images) and all (seed 000's table); pixel F1 pooled and pixel AUC of the probability map (seed 004's); image_f1: forged called forged; parameters: scalars in the checkpoint; train_min: recorded training time; ms_per_mp: prediction time per megapixel.</p>
${absent.length ? `<h2>Absent</h2>${renderTable(absent)}` : ''}
<h2>Runs and their prediction options</h2>${renderTable(runsTable(result), { maxRows: 100 })}
<h2>PR and ROC curves</h2>${plots}
${families.length ? `<h2>oF1 per figure family</h2>${renderTable(families, { maxRows: 200 })}` : ''}
${transforms.length ? `<h2>Copies found (at least half covered) per copy transform</h2>${renderTable(transforms, { maxRows: 50 })}` : ''}
${issues.length ? `<h2>Validation images with problems</h2>${renderTable(issues, { maxRows: 200 })}` : ''}
</body></html>
`;
}

/** Write `zoo.json` and `zoo.html` into `outDir`; returns their paths. */
export function writeZooReport(result: ZooResult, outDir: string, command?: string): { json: string; html: string } {
  fs.mkdirSync(outDir, { recursive: true });
  const json = path.join(outDir, 'zoo.json');
  const html = path.join(outDir, 'zoo.html');
  writeFileAtomic(json, zooJson(result));
  writeFileAtomic(html, zooReportHtml(result, command));
  return { json, html };
}
