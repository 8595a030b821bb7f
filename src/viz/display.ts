/**
 * Rich output for notebooks (and plain text outside a kernel): what `display.` completes to in a
 * notebook. Each call sends one Jupyter display; outside a tslab kernel it prints text and never
 * throws, so library code may call it unconditionally. The machinery (MIME bundles, display
 * handles, plotly.js inlining) lives in display-core.ts.
 *
 *   display.table(rows | DataFrame, { caption })   an HTML table
 *   display.plot(figure)                           a Plotly chart (offline)
 *   display.png(buf, { caption })                  an image, caption visible under it
 *   display.progress(total, { label })             a progress bar updated in place
 *   display.html / markdown / svg / text           the rest
 *   display.handle()                               one output area that later calls replace
 */
export { html, markdown, svg, png, text, table, plot, progress, createHandle as handle } from './display-core';
export type { PlotlyFigure, Progress, ProgressOptions, DisplayHandle } from './display-core';
export type { TableInput, TableOptions } from './table';
