import type { Command } from '../command';

/** A sub-command as `sifd --help` lists it; its module (and its heavy imports) loads only when it runs. */
export interface CommandEntry {
  name: string;
  summary: string;
  load(): Command;
}

/** Every `sifd` sub-command, in the order `sifd --help` lists them. Add one entry per command. */
export const commands: CommandEntry[] = [
  { name: 'start', summary: 'the main job (npm start): make data/sample once, execute every notebook, print the index page', load: () => (require('./start') as typeof import('./start')).start },
  { name: 'notebooks run', summary: 'execute notebooks through Jupyter (tslab) into out/notebooks/', load: () => (require('./notebooks') as typeof import('./notebooks')).notebooksRun },
  { name: 'lab', summary: 'JupyterLab from the project venv, rooted at notebooks/, TypeScript (tslab) kernel by default', load: () => (require('./lab') as typeof import('./lab')).lab },
  { name: 'info', summary: 'versions (node, tfjs, sharp), the active tfjs backend and why earlier backends were skipped', load: () => (require('./info') as typeof import('./info')).info },
  { name: 'synth', summary: 'generate a synthetic scientific copy-move dataset in the Kaggle layout', load: () => (require('./synth') as typeof import('./synth')).synth },
  { name: 'eda', summary: 'scan a dataset folder: one row per image, every problem; JSON and an offline HTML report', load: () => (require('./eda') as typeof import('./eda')).eda },
  { name: 'train', summary: 'train a registered model on a dataset folder, checkpointing every epoch', load: () => (require('./train') as typeof import('./train')).train },
  { name: 'weights import', summary: 'import pretrained PyTorch/safetensors weights (HF MiT/SegFormer, ...) into a model as a run folder', load: () => (require('./weights') as typeof import('./weights')).weightsImport },
  { name: 'predict', summary: 'predict forged regions for a folder of images and write submission.csv', load: () => (require('./predict') as typeof import('./predict')).predict },
  { name: 'calibrate', summary: "choose a run's event-score threshold on tuning images and write it into the run", load: () => (require('./calibrate') as typeof import('./calibrate')).calibrate },
  { name: 'tune', summary: "search a run's decoder parameters on validation images (seeded) and write them into the run", load: () => (require('./tune') as typeof import('./tune')).tune },
  { name: 'compare', summary: 'the model zoo side by side: every model (its newest run, or trained in a budget), the classical detector and the baseline on the same images; JSON + offline HTML', load: () => (require('./compare') as typeof import('./compare')).compare },
  { name: 'evaluate', summary: 'score a submission CSV against the truth (Kaggle oF1, pixel F1, Dice/IoU)', load: () => (require('./evaluate') as typeof import('./evaluate')).evaluate },
  { name: 'screen report', summary: 'an offline HTML report of a screening result store: flagged images, folders, failures', load: () => (require('./screen-report') as typeof import('./screen-report')).screenReport },
  { name: 'screen', summary: 'screen a folder of images into a SQLite result store (local workers, or BullMQ workers with --redis)', load: () => (require('./screen') as typeof import('./screen')).screen },
  { name: 'worker', summary: 'a BullMQ screening worker for `sifd screen --redis` (run on any number of machines)', load: () => (require('./worker') as typeof import('./worker')).worker },
];
