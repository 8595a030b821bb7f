import type { Command } from '../command';
import { flag, optNum, str } from '../command';
import { initBackend } from '../../lib/backend/index';
import { calibrateEventScore, EVENT_SCORE_CANDIDATES } from '../../lib/eval/calibrate';
import { checkInputDir } from '../../lib/util/checkpath';

export const calibrate: Command = {
  name: 'calibrate',
  usage: `usage: sifd calibrate --run runs/R --data DIR [--limit N] [--dry-run] [--json]

Chooses a trained run's event-score threshold on the labelled images of DIR: every image is
predicted once, then each candidate (${EVENT_SCORE_CANDIDATES.join(', ')}) drops the events scoring
below it and the Kaggle oF1 picks the best (ties: the lower threshold). The choice goes into the
run's predict.json, which 'sifd predict --run', 'sifd evaluate --run', 'sifd compare' and the notebooks
then use unless given another; every candidate's score into calibration.json. Calibrate on a tuning set, never on the images you report.

options:
  --run DIR      the training run folder (its latest complete checkpoint)
  --data DIR     dataset root with labelled images (Kaggle layout or data/sample)
  --limit N      at most N images per (split, label)
  --dry-run      calibrate and print, but leave the run's files as they are
  --json         print the record as one JSON object`,
  options: {
    run: { type: 'string' },
    data: { type: 'string' },
    limit: { type: 'string' },
    'dry-run': { type: 'boolean' },
    json: { type: 'boolean' },
  },
  async run(args) {
    const runDir = checkInputDir(str(args, 'run'), '--run');
    const data = checkInputDir(str(args, 'data'), '--data');
    const limit = optNum(args, 'limit', { integer: true, min: 1 });
    const json = flag(args, 'json');
    await initBackend();
    const rec = await calibrateEventScore({ runDir, data, limitPerGroup: limit, write: !flag(args, 'dry-run'), warn: (m) => console.error(`calibrate: ${m}`) });
    if (json) {
      console.log(JSON.stringify(rec));
      return 0;
    }
    for (const t of rec.trials) console.log(`minEventScore ${t.minEventScore.toFixed(2)}  oF1 ${t.of1.toFixed(4)}  false alarms ${(100 * t.falseAlarmRate).toFixed(1)}%  forged detected ${(100 * t.forgedDetected).toFixed(1)}%`);
    console.log(`chosen ${rec.minEventScore} on ${rec.images} images: oF1 ${rec.chosen.of1.toFixed(4)} (no threshold ${rec.unthresholded.of1.toFixed(4)})${flag(args, 'dry-run') ? '' : ' -> predict.json'}`);
    return 0;
  },
};
