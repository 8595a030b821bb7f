import * as fs from 'fs';
import type { Command } from '../command';
import { flag, num } from '../command';
import { generateDataset } from '../../lib/data/synth/index';
import { writeIndex } from '../../lib/notebooks/runner';
import { repoPath } from '../../lib/util/paths';
import { runNotebooks } from './notebooks';

/** The sample dataset `npm start` generates once: a few hundred realistic figures, long side at most 1024 px. */
export const SAMPLE = { n: 300, seed: 20261123, maxSize: 1024 };

export const start: Command = {
  name: 'start',
  usage: `usage: sifd start [--quick] [--sample-n N]

Generates the synthetic sample dataset in data/sample (${SAMPLE.n} images, seed ${SAMPLE.seed}) if it is
not there yet, executes every notebook in notebooks/ in order at its defaults (SIFD_QUICK=1 with
--quick), writes the executed notebooks and an index page to out/notebooks/, and prints the
index page's path. Exits non-zero if any notebook fails (the others still run).`,
  options: { quick: { type: 'boolean' }, 'sample-n': { type: 'string' } },
  async run(args) {
    const sample = repoPath('data', 'sample');
    if (!fs.existsSync(sample)) {
      const n = num(args, 'sample-n', SAMPLE.n, { integer: true, min: 1 });
      console.log(`start: generating the sample dataset (${n} images) in ${sample}`);
      await generateDataset({ out: sample, n, seed: SAMPLE.seed, sizes: { min: 64, max: SAMPLE.maxSize } });
    }
    const results = await runNotebooks([], { env: flag(args, 'quick') ? { SIFD_QUICK: '1' } : {}, keepGoing: true });
    const index = writeIndex(results);
    const failed = results.filter((r) => !r.ok).map((r) => r.name);
    console.log(failed.length ? `start: failed notebooks: ${failed.join(', ')}` : `start: all ${results.length} notebooks ran`);
    console.log(`open ${index}`);
    return failed.length ? 1 : 0;
  },
};
