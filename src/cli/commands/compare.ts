import * as path from 'path';
import type { Command } from '../command';
import { flag, num, optNum, optStr, outDir, str, UsageError } from '../command';
import { initBackend } from '../../lib/backend/index';
import { checkInputDir } from '../../lib/util/checkpath';
import { progressCallbacks } from '../../lib/train/callbacks';
import { compareModels, DEFAULT_ZOO_MODELS } from '../../lib/zoo/compare';
import { writeZooReport } from '../../lib/zoo/report';
import { absentTable, zooTable } from '../../lib/zoo/table';
import { recipeModels } from '../../lib/zoo/recipes';
import { tableText } from '../../viz/table';

export const compare: Command = {
  name: 'compare',
  usage: `usage: sifd compare --data DIR [--val-data DIR] [--tune-data DIR] [--models m1,m2,...] [--runs DIR] [--budget MINUTES]
                    [--quick] [--no-classical] [--val-limit N] [--out DIR] [--json]

The model zoo side by side. For each model: the newest finished run of it in the runs folder (a
run's checkpoint names its model), else, with --budget, one trained on DIR with its notebook's
recipe (${recipeModels().join(', ')}) scaled to its share of the budget; then the classical
detector and the all-authentic baseline. All are scored on the same validation images (--val-data's
labelled training images, else a held-out 20% of DIR that no run trained here sees) with the
predictor options each notebook uses (the run's predict.json, where its notebook or 'sifd calibrate'
put the event threshold chosen on a tuning set; a run trained here is calibrated on --tune-data). Writes
zoo.json and an offline zoo.html (tables, PR/ROC curves, per figure family and copy transform on a
synthetic validation set). A model asked for that has no run and no budget, or is not registered,
is listed as absent with the reason. An unreadable validation image is reported and skipped.

options:
  --data DIR        training dataset (Kaggle layout)
  --val-data DIR    validation dataset (default: the held-out split of --data)
  --tune-data DIR   tuning dataset: the runs trained here get their event threshold calibrated on it
  --models LIST     comma-separated registered models (default ${DEFAULT_ZOO_MODELS.join(',')})
  --runs DIR        folder of training runs (default: SIFD_RUNS, else runs/)
  --budget MIN      training minutes for the models without a finished run, shared among them
                    (default 0: train none; an estimate from each recipe's measured time)
  --quick           train with the notebooks' SIFD_QUICK=1 recipes (tiny)
  --no-classical    leave out the classical detector
  --val-limit N     at most N validation images per label
  --out DIR         report folder (default out/zoo)
  --json            print zoo.json's table as JSON instead of a text table`,
  options: {
    data: { type: 'string' },
    'val-data': { type: 'string' },
    'tune-data': { type: 'string' },
    models: { type: 'string' },
    runs: { type: 'string' },
    budget: { type: 'string' },
    quick: { type: 'boolean' },
    'no-classical': { type: 'boolean' },
    'val-limit': { type: 'string' },
    out: { type: 'string' },
    json: { type: 'boolean' },
  },
  async run(args) {
    const data = checkInputDir(str(args, 'data'), '--data');
    const valArg = optStr(args, 'val-data');
    const valData = valArg === undefined ? undefined : checkInputDir(valArg, '--val-data');
    const tuneArg = optStr(args, 'tune-data');
    const tuneData = tuneArg === undefined ? undefined : checkInputDir(tuneArg, '--tune-data');
    const modelsArg = optStr(args, 'models');
    const models = modelsArg === undefined ? DEFAULT_ZOO_MODELS : modelsArg.split(',').map((m) => m.trim()).filter(Boolean);
    if (models.length === 0) throw new UsageError('--models names no model');
    const budget = num(args, 'budget', 0, { min: 0 });
    const valLimit = optNum(args, 'val-limit', { integer: true, min: 1 });
    const out = outDir(args, 'out', path.join('out', 'zoo'));
    const runs = optStr(args, 'runs') ?? process.env.SIFD_RUNS ?? 'runs';
    const json = flag(args, 'json');
    await initBackend();
    const result = await compareModels({
      data,
      valData,
      tuneData,
      models,
      runs,
      budgetMinutes: budget,
      quick: flag(args, 'quick'),
      classical: !flag(args, 'no-classical'),
      valLimit,
      log: (line) => console.error(line),
      trainCallbacks: (model) => [progressCallbacks({ label: model })],
    });
    const command = ['sifd compare', ...Object.entries(args.values).filter(([k, v]) => k !== 'help' && v !== undefined && v !== false).map(([k, v]) => (v === true ? `--${k}` : `--${k} ${String(v)}`))].join(' ');
    const files = writeZooReport(result, out, command);
    for (const p of result.problems) console.error(`warning: ${p.file}: ${p.kind}: ${p.reason}`);
    for (const u of result.unreadable) console.error(`warning: ${u.file}: unreadable, skipped: ${u.reason}`);
    if (json) {
      console.log(JSON.stringify({ table: zooTable(result), absent: absentTable(result), json: files.json, html: files.html }));
    } else {
      console.log(tableText(zooTable(result), { maxRows: 100 }));
      for (const a of absentTable(result)) console.log(`absent: ${a.model}: ${a.reason}`);
      console.log(`wrote ${files.json} and ${files.html}`);
    }
    return 0;
  },
};
