import type { Command } from '../command';
import { num, outFile, str } from '../command';
import { writeReport } from '../../lib/screen/report';

export const screenReport: Command = {
  name: 'screen report',
  usage: `usage: sifd screen report --db results.sqlite --out report.html [--thumbnails N]

Writes one offline HTML file (no network needed to view it): the flagged images sorted by score,
each with its overlay thumbnail and matched regions (events), counts per folder, and the failures
with their reasons. Columns sort on click. Thumbnails are read from the images' paths now.

options:
  --db FILE             a result store written by 'sifd screen' (required)
  --out FILE            the HTML file to write (required)
  --thumbnails N        flagged images with a thumbnail, highest scores first (default 500)`,
  options: {
    db: { type: 'string' },
    out: { type: 'string' },
    thumbnails: { type: 'string' },
  },
  async run(args) {
    const db = str(args, 'db');
    const out = outFile(args, 'out');
    const s = await writeReport(db, out, { maxThumbnails: num(args, 'thumbnails', 500, { integer: true, min: 0 }) });
    console.log(`${out}: ${s.flagged} flagged (${s.thumbnails} thumbnails), ${s.failed} failed, ${s.skipped} not screened, ${s.folders} folder(s)`);
    return 0;
  },
};
