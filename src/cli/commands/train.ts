import * as path from 'path';
import type { Command } from '../command';
import { flag, optJsonObject, optNum, optStr, outDir, str } from '../command';
import { resolveDataRoot } from '../../lib/data/scan';
import { checkInputDir } from '../../lib/util/checkpath';
import { initBackend } from '../../lib/backend/index';
import { listEvidenceKinds } from '../../lib/evidence/index';
import { listModels } from '../../lib/models/index';
import type { ModelConfig } from '../../lib/models/types';
import { progressCallbacks } from '../../lib/train/callbacks';
import type { TrainConfig } from '../../lib/train/config';
import { trainOnDataset } from '../../lib/train/dataset_run';
import { freezePrefixes } from '../../lib/train/freeze';
import { TRAIN_PRESETS } from '../../lib/train/presets';

/** The evidence kinds and their planes, from the registry (src/lib/evidence/index.ts). */
function evidenceList(): string {
  return listEvidenceKinds()
    .filter((k) => k.planes.length > 0)
    .map((k) => `                        ${k.name}: ${k.planes.map((p) => p.name + (p.trusted ? ' (trusted)' : '')).join(' + ')}`)
    .join('\n');
}

function presetList(): string {
  return Object.entries(TRAIN_PRESETS)
    .map(([name, p]) => `                      ${name}: ${p.description}`)
    .join('\n');
}

function modelList(): string {
  return listModels()
    .map((m) => `                      ${m.name}: ${m.description}`)
    .join('\n');
}

export const train: Command = {
  name: 'train',
  get usage() {
    return `usage: sifd train --model M [--data DIR] [--out runs/R] [--epochs E] [--resume] [--preset P]
                  [--batch B] [--size S] [--lr LR] [--clip N] [--seed N] [--augment A]
                  [--evidence K] [--val-fraction F] [--limit N] [--workers N] [--replicas N] [--backend B] [--model-config JSON]
                  [--init runs/R0] [--freeze backbone|PREFIXES]

Scans DIR, splits its labelled images into train/validation (stratified, seeded), and trains.
Every epoch writes runs/R/epoch_<k>/ (weights, optimizer state, RNG state, history, config)
atomically, and runs/R/history.jsonl. A NaN/Inf loss stops the run with an error; the last
checkpoint stays valid. --resume continues from the latest complete checkpoint with the run's
own recipe (only --epochs may raise the total; a lower one is refused) on the dataset it was
started on (runs/R/run.json; another --data is refused); without it an existing run is never
overwritten. A corrupt newest checkpoint is kept as epoch_<k>.corrupt-<time> and the one before is used.
Forged images whose mask is empty (all zero or NaN) are skipped with a warning.

options:
  --model M           registered model (default unet-tiny):
${modelList()}
  --data DIR          dataset root, Kaggle layout (default: SIFD_DATA, else data/sample)
  --out DIR           run folder (default runs/<model>)
  --epochs E          total epochs (preset default)
  --resume            continue the run in --out
  --preset P          training recipe to start from (default: AdamW 1e-3, constant lr, 10 epochs):
${presetList()}
  --batch B           batch size
  --size S            square training size in pixels (multiples of 4 for unet-tiny)
  --lr LR             base learning rate
  --clip N            clip gradients to global L2 norm N
  --seed N            seed of weights, split, shuffling and augmentation (default 0)
  --augment A         loader augmentation preset: seed-a, seed-b, none (default none)
  --evidence K        copy-move evidence planes appended to RGB as input channels (models with an
                      inChannels option), computed at native resolution (default none):
${evidenceList()}
  --val-fraction F    fraction held out for validation (default 0.2; 0 = none)
  --limit N           at most N images per split and label (quick runs)
  --workers N         loader decoding threads (default 0)
  --replicas N        data-parallel training: each batch split over this thread and N-1 worker threads,
                      each with its own model copy and single-threaded backend (default 1); on wasm the
                      whole step runs in parallel, ~1.4x faster than wasm's own threads on 2 cores
  --backend B         tfjs backend: tensorflow, wasm or cpu (default: best available)
  --model-config JSON model options as a JSON object, e.g. '{"diceWeight": 0.5}'; '{"weights": FILE}'
                      starts a model that imports weights from a reference state dict (sifd weights import)
  --init R0           fine-tune: start from the weights of run R0's latest checkpoint (e.g. one that
                      'sifd weights import' wrote), with its model config, a fresh optimizer and epoch 1
  --freeze F          keep parameters fixed: 'backbone' (the model's pretrained encoder, e.g. a SegFormer's
                      MiT) or comma-separated parameter-name prefixes; saved in the run's recipe`;
  },
  options: {
    model: { type: 'string' },
    data: { type: 'string' },
    out: { type: 'string' },
    epochs: { type: 'string' },
    resume: { type: 'boolean' },
    preset: { type: 'string' },
    batch: { type: 'string' },
    size: { type: 'string' },
    lr: { type: 'string' },
    clip: { type: 'string' },
    seed: { type: 'string' },
    augment: { type: 'string' },
    evidence: { type: 'string' },
    'val-fraction': { type: 'string' },
    limit: { type: 'string' },
    workers: { type: 'string' },
    replicas: { type: 'string' },
    backend: { type: 'string' },
    'model-config': { type: 'string' },
    init: { type: 'string' },
    freeze: { type: 'string' },
  },
  async run(args) {
    const model = str(args, 'model', 'unet-tiny');
    const overrides: Partial<TrainConfig> = {};
    const positive = { integer: true, min: 1 };
    const set = <K extends keyof TrainConfig>(key: K, v: TrainConfig[K] | undefined) => {
      if (v !== undefined) overrides[key] = v;
    };
    set('epochs', optNum(args, 'epochs', positive));
    set('batchSize', optNum(args, 'batch', positive));
    set('size', optNum(args, 'size', { integer: true, min: 8 }));
    set('seed', optNum(args, 'seed', { integer: true, min: 0 }));
    set('lr', optNum(args, 'lr', { min: 0, minExclusive: true }));
    set('clipNorm', optNum(args, 'clip', { min: 0, minExclusive: true }));
    set('augment', optStr(args, 'augment'));
    set('evidence', optStr(args, 'evidence') as TrainConfig['evidence']);
    const modelConfig = optJsonObject(args, 'model-config') as ModelConfig | undefined;
    const freeze = optStr(args, 'freeze');
    if (freeze !== undefined) overrides.freeze = freezePrefixes(model, freeze);
    const init = optStr(args, 'init');
    if (init !== undefined) checkInputDir(init, '--init');
    const replicas = optNum(args, 'replicas', positive) ?? 1;
    const valFraction = optNum(args, 'val-fraction', { min: 0, max: 1, maxExclusive: true });
    const workers = optNum(args, 'workers', { integer: true, min: 0 });
    const limitPerGroup = optNum(args, 'limit', positive);
    const data = optStr(args, 'data');
    if (data !== undefined) checkInputDir(resolveDataRoot(data), '--data');
    const out = outDir(args, 'out', path.join('runs', model));
    // One wasm thread per replica: XNNPACK threads on top would only compete with the other replicas.
    if (replicas > 1) process.env.SIFD_WASM_THREADS ??= '1';
    const backend = await initBackend({ prefer: optStr(args, 'backend') });
    console.error(`sifd train: model ${model}, backend ${backend.backend}, run folder ${out}`);
    const result = await trainOnDataset({
      model,
      modelConfig,
      data,
      out,
      resume: flag(args, 'resume'),
      init,
      preset: optStr(args, 'preset'),
      overrides,
      valFraction,
      workers,
      replicas,
      limitPerGroup,
      callbacks: [progressCallbacks({ label: model })],
      onProblem: (p) => console.error(`warning: skipped ${p.file}: ${p.reason}`),
    });
    const last = result.history[result.history.length - 1];
    console.log(
      JSON.stringify({
        run: result.runDir,
        epochs: result.epoch,
        steps: result.step,
        train_samples: result.trainSamples,
        val_samples: result.valSamples,
        train_loss: last?.trainLoss ?? null,
        val_loss: last?.valLoss ?? null,
        checkpoint: result.lastCheckpoint ?? null,
        resumed_from: result.resumedFrom ?? null,
      }),
    );
  },
};
