import * as fs from 'node:fs';
import * as path from 'node:path';
import { ConfigError } from '../errors';
import { buildModelWithWeights, WEIGHTS_OPTION } from '../models/registry';
import type { ModelConfig, WeightsImportReport } from '../models/types';
import { saveCheckpoint } from '../train/checkpoint';
import { DEFAULT_TRAIN_CONFIG, validateTrainConfig, type TrainConfig } from '../train/config';
import { writeDirAtomic } from '../util/atomic';
import { Rng } from '../util/random';

export interface ImportRunOptions {
  /** Registered model name. */
  model: string;
  /** Reference weights file (.safetensors / .pth / .bin). */
  from: string;
  /** New run folder; an existing non-empty one is refused. */
  out: string;
  modelConfig?: ModelConfig;
  /** Recorded as the run's training recipe (the predictor reads its size/augment); default DEFAULT_TRAIN_CONFIG. */
  train?: Partial<TrainConfig>;
}

export interface ImportRunResult {
  runDir: string;
  checkpoint: string;
  report: WeightsImportReport;
  seconds: number;
}

/**
 * A run folder holding reference weights as `epoch_0` (no epoch trained): `sifd predict` and
 * `evaluate` load it like any run, `sifd train --init` fine-tunes from it. The model is built from
 * the registry with `weights: from` (its other parameters keep their seed-0 initial values), and
 * the whole folder is written atomically; an existing run is never overwritten.
 */
export async function importWeightsToRun(opts: ImportRunOptions): Promise<ImportRunResult> {
  const started = Date.now();
  const runDir = path.resolve(opts.out);
  if (fs.existsSync(runDir) && (!fs.statSync(runDir).isDirectory() || fs.readdirSync(runDir).length > 0)) {
    throw new ConfigError('the run folder already exists and is not empty; weights import never overwrites a run, choose another --out', runDir);
  }
  const train = validateTrainConfig({ ...DEFAULT_TRAIN_CONFIG, ...opts.train });
  const { model, weights } = buildModelWithWeights(opts.model, { ...opts.modelConfig, [WEIGHTS_OPTION]: opts.from }, new Rng(train.seed));
  try {
    const report = weights!;
    let checkpoint = '';
    if (fs.existsSync(runDir)) fs.rmdirSync(runDir); // empty (checked above): the atomic rename puts the run in its place
    // 'aside': should another process create the folder meanwhile, it is kept, never replaced.
    await writeDirAtomic(
      runDir,
      async (tmp) => {
        checkpoint = path.join(runDir, path.basename(await saveCheckpoint(tmp, { model, optimizer: { spec: train.optimizer, t: 0, slots: {} }, train, epoch: 0, step: 0, rng: new Rng(train.seed).getState(), history: [] })));
        const info = { model: opts.model, weights: path.resolve(opts.from), imported: new Date().toISOString(), ...report };
        fs.writeFileSync(path.join(tmp, 'import.json'), JSON.stringify(info, null, 1) + '\n');
      },
      { existing: 'aside' },
    );
    return { runDir, checkpoint, report, seconds: (Date.now() - started) / 1000 };
  } finally {
    model.dispose();
  }
}
