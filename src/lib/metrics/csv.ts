import { MetricError } from '../errors';

/**
 * Minimal RFC 4180 CSV for submissions and solutions: quoted fields (annotations contain commas),
 * doubled quotes, CRLF or LF. Returns the header and the rows as records keyed by header name.
 */
export function parseCsv(text: string, file: string): { header: string[]; rows: Array<Record<string, string>>; lines: number[] } {
  const records: string[][] = [];
  const lines: number[] = [];
  let field = '';
  let record: string[] = [];
  let inQuotes = false;
  let line = 1;
  let recordLine = 1;
  const src = text.charCodeAt(0) === 0xfeff ? text.slice(1) : text; // drop a UTF-8 BOM
  for (let i = 0; i < src.length; i++) {
    const ch = src[i];
    if (inQuotes) {
      if (ch === '"') {
        if (src[i + 1] === '"') {
          field += '"';
          i++;
        } else inQuotes = false;
      } else {
        if (ch === '\n') line++;
        field += ch;
      }
    } else if (ch === '"') {
      if (field !== '') throw new MetricError(`line ${line}: quote inside an unquoted field`, file);
      inQuotes = true;
    } else if (ch === ',') {
      record.push(field);
      field = '';
    } else if (ch === '\n' || ch === '\r') {
      if (ch === '\r' && src[i + 1] === '\n') i++;
      record.push(field);
      if (!(record.length === 1 && record[0] === '')) {
        records.push(record);
        lines.push(recordLine);
      }
      record = [];
      field = '';
      line++;
      recordLine = line;
    } else {
      field += ch;
    }
  }
  if (inQuotes) throw new MetricError(`line ${recordLine}: unterminated quoted field`, file);
  record.push(field);
  if (!(record.length === 1 && record[0] === '')) {
    records.push(record);
    lines.push(recordLine);
  }
  if (records.length === 0) throw new MetricError('empty CSV (no header)', file);
  const header = records[0].map((h) => h.trim());
  const rows = records.slice(1).map((r, k) => {
    if (r.length !== header.length) {
      throw new MetricError(`line ${lines[k + 1]}: ${r.length} fields, header has ${header.length} (${header.join(',')}); quote annotations that contain commas`, file);
    }
    return Object.fromEntries(header.map((h, j) => [h, r[j]]));
  });
  return { header, rows, lines: lines.slice(1) };
}

/** Quote a field when it holds a comma, quote or newline (as pandas.to_csv does). */
export function csvField(value: string): string {
  return /[",\r\n]/.test(value) ? `"${value.replace(/"/g, '""')}"` : value;
}

export function requireColumns(header: readonly string[], needed: readonly string[], file: string): void {
  const missing = needed.filter((c) => !header.includes(c));
  if (missing.length) {
    throw new MetricError(`missing column(s) ${missing.join(', ')}; header is '${header.join(',')}', expected ${needed.join(',')}`, file);
  }
}
