import * as path from 'path';
import type { Command } from '../command';
import { num, optNum, optStr, UsageError } from '../command';
import { checkInputDir, checkOutputFile } from '../../lib/util/checkpath';
import { edaRows, labelCounts, problemCounts } from '../../lib/data/eda';
import { edaComparison, edaSummary } from '../../lib/data/eda-summary';
import { resolveDataRoot, scan, type VerifyLevel } from '../../lib/data/scan';
import { writeFileAtomic } from '../../lib/util/atomic';
import { edaReportHtml } from '../../viz/figures/eda-report';
import { tableText } from '../../viz/table';
import { overlaySample } from '../../viz/overlay';

const LEVELS: VerifyLevel[] = ['header', 'masks', 'full'];

export const eda: Command = {
  name: 'eda',
  usage: `usage: sifd eda [--data DIR] [--json FILE] [--out report.html] [--verify masks] [--limit N] [--samples 8]

  --data DIR       dataset root (Kaggle layout or a flat folder of images); default $SIFD_DATA, else data/sample
  --json FILE      write {"summary": {...}, "comparison": [...], "rows": [...], "problems": [...]} (snake_case keys)
  --out FILE       write a self-contained HTML report (plots, tables, sample overlays; no network needed)
  --verify LEVEL   header (headers only), masks (default: also read masks for areas and parts per event), full (also decode images)
  --limit N        at most N images per split and label
  --samples N      forged samples with mask overlays in the report (default 8)`,
  options: {
    data: { type: 'string' },
    json: { type: 'string' },
    out: { type: 'string' },
    verify: { type: 'string' },
    limit: { type: 'string' },
    samples: { type: 'string' },
  },
  async run(args) {
    const verify = (optStr(args, 'verify') ?? 'masks') as VerifyLevel;
    if (!LEVELS.includes(verify)) throw new UsageError(`--verify must be one of ${LEVELS.join(', ')}, got '${verify}'`);
    const limit = optNum(args, 'limit', { integer: true, min: 1 });
    const samples = num(args, 'samples', 8, { integer: true, min: 0 });
    checkInputDir(resolveDataRoot(optStr(args, 'data')), 'data folder');
    const jsonFile = optStr(args, 'json');
    const out = optStr(args, 'out');
    if (jsonFile) checkOutputFile(jsonFile, '--json');
    if (out) checkOutputFile(out, '--out');
    const t0 = Date.now();
    const result = await scan(optStr(args, 'data'), { verify, limitPerGroup: limit });
    const rows = edaRows(result);
    const seconds = (Date.now() - t0) / 1000;
    console.log(`${result.root} (${result.layout} layout): ${rows.length} images, ${result.problems.length} problems, ${seconds.toFixed(1)} s`);
    for (const c of labelCounts(rows)) console.log(`  ${c.split}/${c.label}: ${c.images}`);
    for (const p of problemCounts(result.problems)) console.log(`  problem ${p.kind}: ${p.count} (e.g. ${p.example})`);
    const summary = edaSummary(rows);
    const comparison = edaComparison(summary);
    console.log(`\n${tableText(comparison, { maxRows: 200 })}`);
    if (jsonFile) {
      writeFileAtomic(jsonFile, JSON.stringify({ root: result.root, summary, comparison, rows, problems: result.problems }, null, 1) + '\n');
      console.log(`wrote ${path.resolve(jsonFile)}`);
    }
    if (out) {
      const picks = result.samples.filter((s) => s.label === 'forged').slice(0, samples);
      const images = [];
      for (const s of picks) images.push({ png: await overlaySample(s, { maxSize: 512 }), caption: `${s.split}/${s.id}` });
      writeFileAtomic(out, edaReportHtml({ root: result.root, rows, problems: result.problems, images }));
      console.log(`wrote ${path.resolve(out)}`);
    }
    return 0;
  },
};
