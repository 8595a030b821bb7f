/** Plotly figure builders for the dataset EDA: they return figure JSON; callers display or embed it. */
import type { EdaRow } from '../../lib/data/eda';
import { COMPETITION_REFERENCE } from '../../lib/data/competition-reference';
import type { PlotlyFigure } from '../display';

const LABEL_COLOURS: Record<string, string> = { authentic: '#4c78a8', forged: '#e45756', unknown: '#9d9d9d' };
const REFERENCE_COLOUR = '#54a24b';

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

/** Events (mask channels) per forged image, as shares beside the real competition's. */
export function instancesPerImage(rows: readonly EdaRow[]): PlotlyFigure {
  const forged = rows.filter((r) => r.label === 'forged');
  const counts = new Map<number, number>();
  for (const r of forged) counts.set(r.n_events, (counts.get(r.n_events) ?? 0) + 1);
  const ref = COMPETITION_REFERENCE.eventCounts;
  const xs = [...new Set([...counts.keys(), ...Object.keys(ref).map(Number)])].sort((a, b) => a - b);
  return {
    data: [
      { type: 'bar', name: 'this set', x: xs, y: xs.map((x) => (counts.get(x) ?? 0) / Math.max(1, forged.length)), marker: { color: LABEL_COLOURS.forged } },
      { type: 'bar', name: 'competition', x: xs, y: xs.map((x) => (ref[x] ?? 0) / COMPETITION_REFERENCE.forgedImages), marker: { color: REFERENCE_COLOUR } },
    ],
    layout: {
      title: { text: `Events per forged image (${forged.length} images)` },
      barmode: 'group',
      xaxis: { title: { text: 'mask channels (events)' }, dtick: 1 },
      yaxis: { title: { text: 'share of forged images' }, tickformat: '.0%' },
      height: 360,
    },
  };
}

/** Connected parts per event (a source and its copies): 2-5 in the real masks. */
export function partsPerEventFigure(rows: readonly EdaRow[]): PlotlyFigure {
  const counts = new Map<number, number>();
  for (const r of rows) if (r.label === 'forged') for (const p of r.parts_per_event ?? []) counts.set(p, (counts.get(p) ?? 0) + 1);
  const xs = [...counts.keys()].sort((a, b) => a - b);
  const { min, max } = COMPETITION_REFERENCE.partsPerEvent;
  return {
    data: [{ type: 'bar', x: xs, y: xs.map((x) => counts.get(x)), marker: { color: xs.map((x) => (x >= min && x <= max ? LABEL_COLOURS.forged : '#bab0ac')) } }],
    layout: {
      title: { text: `Connected parts per event (real masks: ${min}-${max})` },
      xaxis: { title: { text: '8-connected parts in one mask channel' }, dtick: 1 },
      yaxis: { title: { text: 'events' } },
      height: 340,
    },
  };
}

/**
 * Forged-area fraction per forged image, and the area of each event relative to its image; dashed
 * lines mark the competition's p10, median and p90 of the per-image fraction.
 */
export function forgedAreaDistribution(rows: readonly EdaRow[]): PlotlyFigure {
  const forged = rows.filter((r) => r.label === 'forged' && r.forged_area_fraction !== null);
  const perEvent = forged.flatMap((r) => (r.event_areas ?? []).map((a) => a / (r.width * r.height)));
  // Plotly bins histograms in data space, so a log axis shows no bars: bin log10(fraction) instead.
  const log10 = (xs: number[]) => xs.filter((x) => x > 0).map((x) => Math.log10(x));
  const ticks = [-5, -4, -3, -2, -1, 0];
  const ref = COMPETITION_REFERENCE.areaFraction;
  const refLines = (['p10', 'median', 'p90'] as const).map((k) => ({
    type: 'line', xref: 'x', yref: 'paper', x0: Math.log10(ref[k]), x1: Math.log10(ref[k]), y0: 0, y1: 1,
    line: { color: REFERENCE_COLOUR, dash: 'dash', width: 1.5 },
  }));
  return {
    data: [
      { type: 'histogram', x: log10(forged.map((r) => r.forged_area_fraction as number)), name: 'per image (union)', opacity: 0.75, nbinsx: 40, marker: { color: LABEL_COLOURS.forged } },
      { type: 'histogram', x: log10(perEvent), name: 'per event', opacity: 0.6, nbinsx: 40, marker: { color: '#72b7b2' } },
    ],
    layout: {
      title: { text: 'Forged area as a fraction of the image (dashed: competition p10, median, p90)' },
      barmode: 'overlay',
      shapes: refLines,
      xaxis: { title: { text: 'fraction of image pixels (log scale)' }, tickvals: ticks, ticktext: ticks.map((t) => `${+(100 * 10 ** t).toPrecision(1)}%`) },
      yaxis: { title: { text: 'count' } },
      height: 380,
    },
  };
}
