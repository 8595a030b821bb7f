import type { Command } from '../command';
import { num, optNum, optStr, outFile as outFileOption, parseParams, str, UsageError } from '../command';
import { checkInputDir, checkNotAnInput } from '../../lib/util/checkpath';
import { scan } from '../../lib/data/scan';
import { readImage } from '../../lib/data/image-io';
import { CLASSICAL_MAX_PIXELS, createClassicalPredictor } from '../../lib/classical/predictor';
import { loadPredictorFromRun } from '../../lib/infer/run';
import { predictImages, type ImageSource } from '../../lib/infer/predict';
import { EVENT_POLICIES, type EventPolicy, POSTPROCESS_DEFAULTS } from '../../lib/infer/postprocess';
import { writeSubmission } from '../../lib/infer/submission';
import type { Predictor } from '../../lib/infer/types';
import * as fs from 'fs';
import { ConfigError, DatasetError, didYouMean } from '../../lib/errors';
import { initBackend } from '../../lib/backend/index';

/** --events, checked up front: undefined when not given. */
function eventPolicy(value: string | undefined): EventPolicy | undefined {
  if (value === undefined) return undefined;
  if (!(EVENT_POLICIES as readonly string[]).includes(value)) {
    throw new UsageError(`unknown --events '${value}'; ${didYouMean(value, EVENT_POLICIES)}`);
  }
  return value as EventPolicy;
}

export const predict: Command = {
  name: 'predict',
  usage: `usage: sifd predict (--run runs/R | --classical [--param K=V]...) --images DIR --out submission.csv
                    [--min-area N] [--merge-iou X] [--score-threshold X] [--evidence-keep X|none]
                    [--events keep|merge-all|overlap|copy-links]

Runs a trained model (the latest complete checkpoint of a run folder) or the classical keypoint
detector on every image under DIR (a dataset root, one of its image folders, or a flat folder of
images) and writes case_id,annotation (case_id = file stem; Kaggle RLE or 'authentic') atomically.
Only the images are read: masks beside them (good, bad or missing) never drop an image. An image
that cannot be read is skipped with a warning; the CSV is still written for the rest and the exit
status is then 1. --out may not be one of the input images.
Predictions come back at each image's original size; see src/lib/infer/postprocess.ts for the
resize policy. Each instance written is one copy-move event: a source region and its copies.

options:
  --run DIR             a training run folder (runs/<name>) written by 'sifd train'
  --classical           the classical copy-move detector instead of a model
  --param K=V           a classical detector parameter (repeatable), flat or by stage, e.g. --param detector=akaze
                        or --param keypoints.detector=akaze (src/lib/classical/params.ts, PARAM_GROUPS)
  --images DIR          the images to predict (required)
  --out FILE            the submission CSV to write (required)
  --min-area N          drop instances smaller than N pixels at original size (default ${POSTPROCESS_DEFAULTS.minArea})
  --merge-iou X         merge instances overlapping with IoU above X (default ${POSTPROCESS_DEFAULTS.mergeIoU})
  --score-threshold X   drop instances scoring below X (default ${POSTPROCESS_DEFAULTS.scoreThreshold})
  --max-pixels N        classical: larger images are detected on a nearest-neighbour downscaled copy
                        of at most N pixels (default ${CLASSICAL_MAX_PIXELS}, ~0.5 GB peak; the detector
                        needs ~100 bytes per pixel at native resolution)
  --min-event-score X   --run: drop events scoring below X (default: the run's predict.json, which
                        \`sifd compare\` writes from the family recipe, else 0; notebook 03's model:
                        0.8, chosen on the realistic tuning sets, cuts its false alarms on authentic images)
  --evidence-keep X     runs trained with evidence channels: add evidence regions whose mean predicted
                        probability reaches X (default 0.3); 'none' keeps the model's output alone
  --events P            how instances become copy-move events: 'keep' (as predicted), 'merge-all'
                        (one event per image), 'overlap' (instances that overlap or touch are one),
                        'copy-links' (--run only: regions grouped by the image's matched block pairs,
                        a source with its copies; one event when fewer than two groups are linked).
                        --run: default copy-links for probability-map models, overlap for query
                        models. --classical: default keep (the detector already reports events;
                        its own grouping is --param events=transform|regions)`,
  options: {
    run: { type: 'string' },
    classical: { type: 'boolean' },
    param: { type: 'string', multiple: true },
    images: { type: 'string' },
    out: { type: 'string' },
    'min-area': { type: 'string' },
    'merge-iou': { type: 'string' },
    'score-threshold': { type: 'string' },
    'evidence-keep': { type: 'string' },
    'min-event-score': { type: 'string' },
    events: { type: 'string' },
    'max-pixels': { type: 'string' },
  },
  async run(args) {
    const runDir = optStr(args, 'run');
    const classical = args.values.classical === true;
    if ((runDir === undefined) === !classical) throw new UsageError('give exactly one of --run DIR or --classical');
    const params = (args.values.param as string[] | undefined) ?? [];
    if (params.length && !classical) throw new UsageError('--param goes with --classical');
    const keepArg = optStr(args, 'evidence-keep');
    if (keepArg !== undefined && classical) throw new UsageError('--evidence-keep goes with --run');
    // every option and path is checked before the predictor loads and before any image is read
    const events = eventPolicy(optStr(args, 'events'));
    const unit = { min: 0, max: 1 };
    const postprocess = {
      minArea: num(args, 'min-area', POSTPROCESS_DEFAULTS.minArea, { min: 0 }),
      mergeIoU: num(args, 'merge-iou', POSTPROCESS_DEFAULTS.mergeIoU, unit),
      scoreThreshold: num(args, 'score-threshold', POSTPROCESS_DEFAULTS.scoreThreshold, unit),
      // a run's predictor groups its own output; the classical detector's events may be grouped further here
      events: classical ? events : undefined,
    };
    const maxPixels = optNum(args, 'max-pixels', { integer: true, min: 1 });
    if (maxPixels !== undefined && !classical) throw new UsageError('--max-pixels goes with --classical');
    const minEventScore = optNum(args, 'min-event-score', unit);
    if (optStr(args, 'min-event-score') !== undefined && classical) throw new UsageError('--min-event-score goes with --run (the classical detector: --param minEventScore=X)');
    const evidenceKeep = keepArg === undefined ? undefined : keepArg === 'none' ? null : num(args, 'evidence-keep', 0.3, unit);
    const imagesDir = str(args, 'images');
    checkInputDir(imagesDir, '--images');
    const outFile = outFileOption(args, 'out');
    // a submission is a CSV: never replace an existing image or mask (masks are not scanned below)
    if (fs.existsSync(outFile) && /\.(png|jpe?g|tiff?|webp|npy)$/i.test(outFile)) {
      throw new ConfigError('--out is an existing image or mask file; predict writes a CSV (choose another path)', outFile);
    }
    if (runDir !== undefined) checkInputDir(runDir, '--run');

    // the predictor first: a bad run folder or parameter fails before a long scan
    // a learned model runs on the fastest backend available (tfjs-node(-gpu), wasm, then cpu)
    if (!classical) await initBackend();
    const predictor: Predictor = classical
      ? createClassicalPredictor(parseParams(params), { maxPixels })
      : await loadPredictorFromRun(runDir as string, { evidenceKeep, events, minEventScore });
    const started = Date.now();
    try {
      // Prediction needs the images only: masks (bad, missing or none) never drop an image.
      const { samples, problems } = await scan(imagesDir, { imagesOnly: true });
      for (const p of problems) console.warn(`warning: ${p.file}: ${p.kind}: ${p.reason}`);
      if (samples.length === 0) throw new DatasetError('no images found', imagesDir);
      checkNotAnInput(outFile, samples.map((s) => s.imagePath), '--out');
      const skipped = problems.filter((p) => p.kind === 'corrupt-image').map((p) => ({ file: p.file, reason: p.reason }));
      const sources: ImageSource[] = samples.map((s) => ({ caseId: s.id, file: s.imagePath, load: () => readImage(s.imagePath) }));
      const rows = await predictImages(predictor, sources, {
        postprocess,
        onImage: (done, total) => {
          if (process.stderr.isTTY) process.stderr.write(`\rpredict ${done}/${total}`);
        },
        onError: (src, err) => {
          if (process.stderr.isTTY) process.stderr.write('\n');
          console.warn(`warning: skipped ${src.file}: ${err.reason}`);
          skipped.push({ file: src.file, reason: err.reason });
          return 'skip';
        },
      });
      if (process.stderr.isTTY) process.stderr.write('\n');
      writeSubmission(outFile, rows);
      const forged = rows.filter((r) => r.annotation !== 'authentic').length;
      const seconds = (Date.now() - started) / 1000;
      console.log(`${predictor.name}: ${rows.length} images (${forged} with forged regions) in ${seconds.toFixed(1)} s -> ${outFile}`);
      if (skipped.length) {
        console.error(`sifd predict: ${skipped.length} image(s) could not be read and have no row in ${outFile}:`);
        for (const s of skipped) console.error(`  ${s.file}: ${s.reason}`);
        return 1;
      }
    } finally {
      predictor.dispose();
    }
    return 0;
  },
};
