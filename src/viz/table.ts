/**
 * Tables for display: records (array of plain objects) or a danfojs DataFrame/Series, rendered as
 * HTML (notebooks) or aligned text (terminal). Columns are formatted by their inferred dtype:
 * integers with thousands separators, floats to 4 significant digits, arrays as compact JSON.
 */
import { escapeHtml } from './html';

/** Rows as plain objects; interfaces without an index signature are fine. */
export type Records = ReadonlyArray<object>;

/** Structural view of a danfojs DataFrame (no import: danfojs is heavy and optional here). */
export interface DataFrameLike {
  columns: string[];
  values: unknown[][] | unknown[];
  index: Array<string | number>;
}

export type TableInput = Records | DataFrameLike;

export interface TableOptions {
  /** Rows shown before eliding (head and tail halves); default 50. */
  maxRows?: number;
  caption?: string;
  /** Show the DataFrame index as the first column (default: true for DataFrames with a non-default index). */
  showIndex?: boolean;
}

type Dtype = 'int' | 'float' | 'bool' | 'string' | 'object' | 'empty';

interface Normalised {
  columns: string[];
  rows: unknown[][];
  dtypes: Dtype[];
}

function isDataFrameLike(x: unknown): x is DataFrameLike {
  return !Array.isArray(x) && typeof x === 'object' && x !== null && 'columns' in x && 'values' in x && 'index' in x;
}

function normalise(input: TableInput, opts: TableOptions): Normalised {
  let columns: string[];
  let rows: unknown[][];
  if (isDataFrameLike(input)) {
    const values = input.values as unknown[];
    const is2d = values.length > 0 && Array.isArray(values[0]);
    // A Series has 1-D values and no meaningful columns.
    const body: unknown[][] = is2d ? (values as unknown[][]) : values.map((v) => [v]);
    columns = is2d ? [...input.columns] : [String((input as { name?: string }).name ?? 'value')];
    const index = input.index ?? [];
    const defaultIndex = index.every((v, i) => v === i);
    const showIndex = opts.showIndex ?? (!defaultIndex || !is2d);
    rows = showIndex ? body.map((r, i) => [index[i], ...r]) : body;
    if (showIndex) columns = ['', ...columns];
  } else {
    const keys: string[] = [];
    const seen = new Set<string>();
    const records = input as ReadonlyArray<Record<string, unknown>>;
    for (const r of records) {
      for (const k of Object.keys(r)) {
        if (!seen.has(k)) {
          seen.add(k);
          keys.push(k);
        }
      }
    }
    columns = keys;
    rows = records.map((r) => keys.map((k) => r[k]));
  }
  const dtypes = columns.map((_, c) => inferDtype(rows.map((r) => r[c])));
  return { columns, rows, dtypes };
}

export function inferDtype(values: unknown[]): Dtype {
  const present = values.filter((v) => v !== null && v !== undefined && !(typeof v === 'number' && Number.isNaN(v)));
  if (present.length === 0) return 'empty';
  if (present.every((v) => typeof v === 'boolean')) return 'bool';
  if (present.every((v) => typeof v === 'number' || typeof v === 'bigint')) {
    return present.every((v) => typeof v === 'bigint' || Number.isInteger(v)) ? 'int' : 'float';
  }
  if (present.every((v) => typeof v === 'string')) return 'string';
  return 'object';
}

export function formatCell(v: unknown, dtype: Dtype): string {
  if (v === null || v === undefined) return '';
  if (typeof v === 'number') {
    if (Number.isNaN(v)) return 'NaN';
    if (!Number.isFinite(v)) return v > 0 ? 'inf' : '-inf';
    if (dtype === 'int' || (Number.isInteger(v) && dtype !== 'float')) return v.toLocaleString('en-US');
    if (v === 0) return '0';
    const a = Math.abs(v);
    if (a >= 1e6 || a < 1e-4) return v.toExponential(3);
    return Number(v.toPrecision(4)).toString();
  }
  if (typeof v === 'bigint') return v.toLocaleString('en-US');
  if (typeof v === 'string') return v;
  if (typeof v === 'boolean') return v ? 'true' : 'false';
  if (ArrayBuffer.isView(v)) return `${v.constructor.name}(${(v as unknown as ArrayLike<unknown>).length})`;
  try {
    const s = JSON.stringify(v, (_, x) => (typeof x === 'number' && !Number.isInteger(x) ? Number(x.toPrecision(4)) : x));
    return s.length > 120 ? `${s.slice(0, 117)}...` : s;
  } catch {
    return String(v);
  }
}

/** Rows to show, with `null` marking the elided middle. */
function visibleRows(rows: unknown[][], maxRows: number): Array<unknown[] | null> {
  if (rows.length <= maxRows) return rows;
  const head = Math.ceil(maxRows / 2);
  const tail = Math.floor(maxRows / 2);
  return [...rows.slice(0, head), null, ...rows.slice(rows.length - tail)];
}

export function renderTable(input: TableInput, opts: TableOptions = {}): string {
  const { columns, rows, dtypes } = normalise(input, opts);
  const maxRows = opts.maxRows ?? 50;
  const align = (d: Dtype) => (d === 'int' || d === 'float' ? 'right' : 'left');
  const head = columns
    .map((c, i) => `<th style="text-align:${align(dtypes[i])}" title="${dtypes[i]}">${escapeHtml(c)}</th>`)
    .join('');
  const body = visibleRows(rows, maxRows)
    .map((r) =>
      r === null
        ? `<tr><td colspan="${columns.length}" style="text-align:center">&hellip; ${rows.length - maxRows} more rows &hellip;</td></tr>`
        : `<tr>${r.map((v, i) => `<td style="text-align:${align(dtypes[i])}">${escapeHtml(formatCell(v, dtypes[i]))}</td>`).join('')}</tr>`,
    )
    .join('');
  const caption = opts.caption ? `<caption>${escapeHtml(opts.caption)}</caption>` : '';
  const footer = `<div style="font-size:smaller;color:#666">${rows.length} rows &times; ${columns.length} columns</div>`;
  return `<table class="sifd-table">${caption}<thead><tr>${head}</tr></thead><tbody>${body}</tbody></table>${footer}`;
}

export function tableText(input: TableInput, opts: TableOptions = {}): string {
  const { columns, rows, dtypes } = normalise(input, opts);
  const maxRows = opts.maxRows ?? 50;
  const shown = visibleRows(rows, maxRows);
  const cells = shown.map((r) => (r === null ? null : r.map((v, i) => formatCell(v, dtypes[i]))));
  const widths = columns.map((c, i) => Math.max(c.length, ...cells.map((r) => (r ? r[i].length : 0))));
  const pad = (s: string, i: number) => (dtypes[i] === 'int' || dtypes[i] === 'float' ? s.padStart(widths[i]) : s.padEnd(widths[i]));
  const lines = [columns.map(pad).join('  '), widths.map((w) => '-'.repeat(w)).join('  ')];
  for (const r of cells) lines.push(r === null ? `... ${rows.length - maxRows} more rows ...` : r.map(pad).join('  '));
  if (opts.caption) lines.unshift(opts.caption);
  return lines.join('\n');
}
