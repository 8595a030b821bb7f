import type { Command } from '../command';
import { optJsonObject, optNum, optStr, outDir, str } from '../command';
import { initBackend } from '../../lib/backend/index';
import { modelsWithWeights } from '../../lib/models/index';
import { importWeightsToRun } from '../../lib/weights/importRun';
import { WEIGHT_FORMATS } from '../../lib/weights/load';

export const weightsImport: Command = {
  name: 'weights import',
  get usage() {
    return `usage: sifd weights import --model M --from FILE --out runs/R [--model-config JSON] [--size S] [--backend B]

Imports pretrained reference weights (HF / PyTorch state dicts: ${WEIGHT_FORMATS.join(', ')}) into a
registered model and writes them as a run folder (runs/R/epoch_0/, no epoch trained) that every
command accepts: 'sifd train --init runs/R' fine-tunes from it, 'sifd predict --run runs/R' runs it.
The model's other parameters (sifd-only modules) keep their seeded initial values. The file's
structure picks the variant (a MiT-b2 file builds variant b2) unless --model-config says otherwise;
a mismatch is an error naming the keys. sifd never downloads: FILE must be on disk. An existing
run folder is never overwritten.

options:
  --model M           a model that imports weights: ${modelsWithWeights().join(', ')}
  --from FILE         the state dict (e.g. nvidia/mit-b0's model.safetensors or pytorch_model.bin)
  --out DIR           the new run folder
  --model-config JSON model options, e.g. '{"decoderDim": 256}'
  --size S            training size recorded in the run (what predict resizes to; default 256)
  --backend B         tfjs backend: tensorflow, wasm or cpu (default: best available)`;
  },
  options: {
    model: { type: 'string' },
    from: { type: 'string' },
    out: { type: 'string' },
    'model-config': { type: 'string' },
    size: { type: 'string' },
    backend: { type: 'string' },
  },
  async run(args) {
    const model = str(args, 'model');
    const from = str(args, 'from');
    const out = outDir(args, 'out');
    const modelConfig = optJsonObject(args, 'model-config');
    const size = optNum(args, 'size', { integer: true, min: 8 });
    await initBackend({ prefer: optStr(args, 'backend') });
    const r = await importWeightsToRun({ model, from, out, modelConfig, train: size ? { size } : undefined });
    console.error(`sifd weights import: ${r.report.summary}; ${r.report.assigned} parameters from ${from}${r.report.ignored.length ? `; not used: ${r.report.ignored.join(', ')}` : ''}`);
    console.log(JSON.stringify({ run: r.runDir, checkpoint: r.checkpoint, assigned: r.report.assigned, ignored: r.report.ignored, summary: r.report.summary, seconds: r.seconds }));
  },
};
