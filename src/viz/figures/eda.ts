/** Plotly figure builders for the dataset EDA: they return figure JSON; callers display or embed it. */
import type { EdaRow } from '../../lib/data/eda';
import type { PlotlyFigure } from '../display';

const LABEL_COLOURS: Record<string, string> = { authentic: '#4c78a8', forged: '#e45756', unknown: '#9d9d9d' };

function byLabel(rows: readonly EdaRow[]): Map<string, EdaRow[]> {
  const groups = new Map<string, EdaRow[]>();
  for (const r of rows) {
    const g = groups.get(r.label) ?? [];
    g.push(r);
    groups.set(r.label, g);
  }
  return groups;
}

/** Width and height histograms side by side (pixels). */
export function sizeHistograms(rows: readonly EdaRow[]): PlotlyFigure {
  return {
    data: [
      { type: 'histogram', x: rows.map((r) => r.width), name: 'width', marker: { color: '#4c78a8' }, xaxis: 'x', yaxis: 'y' },
      { type: 'histogram', x: rows.map((r) => r.height), name: 'height', marker: { color: '#f58518' }, xaxis: 'x2', yaxis: 'y2' },
    ],
    layout: {
      title: { text: `Image widths and heights (${rows.length} images)` },
      grid: { rows: 1, columns: 2, pattern: 'independent' },
      xaxis: { title: { text: 'width (px)' } },
      xaxis2: { title: { text: 'height (px)' } },
      yaxis: { title: { text: 'images' } },
      showlegend: false,
      height: 360,
    },
  };
}

/** Width against height, one colour per label. */
export function sizeScatter(rows: readonly EdaRow[]): PlotlyFigure {
  return {
    data: [...byLabel(rows)].map(([label, g]) => ({
      type: 'scattergl',
      mode: 'markers',
      name: label,
      x: g.map((r) => r.width),
      y: g.map((r) => r.height),
      text: g.map((r) => `${r.split}/${r.id}`),
      marker: { color: LABEL_COLOURS[label], size: 6, opacity: 0.7 },
    })),
    layout: {
      title: { text: 'Image sizes' },
      xaxis: { title: { text: 'width (px)' }, rangemode: 'tozero' },
      yaxis: { title: { text: 'height (px)' }, rangemode: 'tozero' },
      height: 420,
    },
  };
}

/** How many forged regions (mask channels) forged images have. */
export function instancesPerImage(rows: readonly EdaRow[]): PlotlyFigure {
  const forged = rows.filter((r) => r.label === 'forged');
  const counts = new Map<number, number>();
  for (const r of forged) counts.set(r.n_instances, (counts.get(r.n_instances) ?? 0) + 1);
  const xs = [...counts.keys()].sort((a, b) => a - b);
  return {
    data: [{ type: 'bar', x: xs, y: xs.map((x) => counts.get(x)), marker: { color: LABEL_COLOURS.forged } }],
    layout: {
      title: { text: `Instances per forged image (${forged.length} images)` },
      xaxis: { title: { text: 'mask channels (instances)' }, dtick: 1 },
      yaxis: { title: { text: 'images' } },
      height: 360,
    },
  };
}

/** Forged-area fraction per forged image, and the area of each instance relative to its image. */
export function forgedAreaDistribution(rows: readonly EdaRow[]): PlotlyFigure {
  const forged = rows.filter((r) => r.label === 'forged' && r.forged_area_fraction !== null);
  const perInstance = forged.flatMap((r) => (r.instance_areas ?? []).map((a) => a / (r.width * r.height)));
  // Plotly bins histograms in data space, so a log axis shows no bars: bin log10(fraction) instead.
  const log10 = (xs: number[]) => xs.filter((x) => x > 0).map((x) => Math.log10(x));
  const ticks = [-5, -4, -3, -2, -1, 0];
  return {
    data: [
      { type: 'histogram', x: log10(forged.map((r) => r.forged_area_fraction as number)), name: 'per image (union)', opacity: 0.75, nbinsx: 40, marker: { color: LABEL_COLOURS.forged } },
      { type: 'histogram', x: log10(perInstance), name: 'per instance', opacity: 0.6, nbinsx: 40, marker: { color: '#72b7b2' } },
    ],
    layout: {
      title: { text: 'Forged area as a fraction of the image' },
      barmode: 'overlay',
      xaxis: { title: { text: 'fraction of image pixels (log scale)' }, tickvals: ticks, ticktext: ticks.map((t) => `${+(100 * 10 ** t).toPrecision(1)}%`) },
      yaxis: { title: { text: 'count' } },
      height: 380,
    },
  };
}
