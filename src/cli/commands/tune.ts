import type { Command } from '../command';
import { flag, num, optNum, str } from '../command';
import { initBackend } from '../../lib/backend/index';
import { tuneDecoder } from '../../lib/eval/tune';
import { checkInputDir } from '../../lib/util/checkpath';

export const tune: Command = {
  name: 'tune',
  usage: `usage: sifd tune --run runs/R --data DIR [--trials N] [--seed S] [--limit N] [--dry-run] [--json]

Searches the decoder parameters of a trained run (for dinov2-metric: the HDBSCAN cascade's
minimum cluster size and samples, background/event similarities, suspicion and growth thresholds)
on the labelled images of DIR, scored by the Kaggle oF1, and writes the best into the run's
decode.json, which 'sifd predict --run' then uses. Trial 0 is the defaults; the rest is a seeded
random search over the model's candidate values (the whole grid when it has at most N points).
Tune on validation images, never on the images you report.

options:
  --run DIR      the training run folder (its latest complete checkpoint)
  --data DIR     dataset root with labelled images (Kaggle layout or data/sample)
  --trials N     parameter sets to try besides the defaults (default 24)
  --seed S       search seed (default 0)
  --limit N      at most N images per (split, label)
  --dry-run      search and print, but leave decode.json as it is
  --json         print the result as one JSON object`,
  options: {
    run: { type: 'string' },
    data: { type: 'string' },
    trials: { type: 'string' },
    seed: { type: 'string' },
    limit: { type: 'string' },
    'dry-run': { type: 'boolean' },
    json: { type: 'boolean' },
  },
  async run(args) {
    const runDir = checkInputDir(str(args, 'run'), '--run');
    const data = checkInputDir(str(args, 'data'), '--data');
    const trials = num(args, 'trials', 24, { integer: true, min: 1 });
    const seed = num(args, 'seed', 0, { integer: true, min: 0 });
    const limit = optNum(args, 'limit', { integer: true, min: 1 });
    const json = flag(args, 'json');
    await initBackend();
    const result = await tuneDecoder({
      runDir,
      data,
      trials,
      seed,
      limitPerGroup: limit,
      write: !flag(args, 'dry-run'),
      onTrial: json ? undefined : (t, i, n) => console.log(`trial ${i + 1}/${n}  oF1 ${t.of1.toFixed(4)}  ${JSON.stringify(t.params)}`),
    });
    if (json) console.log(JSON.stringify(result.record));
    else console.log(`best oF1 ${result.best.of1.toFixed(4)} (defaults ${result.defaults.of1.toFixed(4)}) on ${result.images} images: ${JSON.stringify(result.best.params)}${flag(args, 'dry-run') ? '' : ' -> decode.json'}`);
    return 0;
  },
};
