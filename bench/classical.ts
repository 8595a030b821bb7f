import { parseArgs } from 'util';
import * as os from 'os';
import { performance } from 'perf_hooks';
import { generateImage } from '../src/lib/data/synth/generate';
import { FAMILIES } from '../src/lib/data/synth/manifest';
import { detectWith } from '../src/lib/classical/detect';
import { hammingKernelUnavailable, prepareHammingKernel, setHammingKernelEnabled } from '../src/lib/classical/hammingKernel';
import { loadOpenCv } from '../src/lib/classical/opencv';
import { resolveParams } from '../src/lib/classical/params';
import { prepareStageWorker } from '../src/lib/classical/stageWorker';
import { computeEvidence } from '../src/lib/evidence/index';
import { Rng } from '../src/lib/util/random';
import { mean, median, quantile, round1 as round } from '../src/lib/util/stats';

/**
 * Classical detector speed: ms per square image at each size (default 512 and 1024), over forged
 * synthetic figures of every family, with the median time of each stage, and the median time of
 * the SegFormer's evidence planes (evidence/index.ts) on the same images. Wall time on a shared
 * machine is noisy (loadAverage is printed with it); process CPU time per image is less so.
 * Usage: npm run bench -- classical [--images N] [--sizes 512,1024] [--flips true|false] [--dense true|false] [--detector sift|orb|akaze|brisk] [--sift true] [--hamming wasm|js] [--stage-worker true|false]
 * (`--dense false` leaves out the rotation-invariant dense matching stage, denseMatch.ts, on by default; `--hamming js`
 * matches binary descriptors with the JavaScript loop instead of the wasm kernel, hammingKernel.ts; `--stage-worker false`
 * runs single-threaded: the native-image stages (exact twins, dense matching, exact regions, lanes, periodic breaks) and verification on
 * the main thread instead of partly in the stage worker, stageWorker.ts; a stage run in the worker is timed there, and
 * the main thread's wait for it is 'stage worker wait'). Each stage's
 * median is also given per megapixel (stageMsPerMp), the unit the detector's time budget is set in;
 * msPerImageMedian / msPerImageP90 are the whole detector's p50 / p90 per image at each size.
 */
export async function run(argv: string[]): Promise<object> {
  const { values } = parseArgs({
    args: argv,
    options: { images: { type: 'string' }, sizes: { type: 'string' }, flips: { type: 'string' }, dense: { type: 'string' }, detector: { type: 'string' }, sift: { type: 'string' }, hamming: { type: 'string' }, 'stage-worker': { type: 'string' } },
    strict: true,
  });
  const n = Number(values.images ?? 4);
  const sizes = (values.sizes ?? '512,1024').split(',').map(Number);
  if (!Number.isInteger(n) || n < 1 || sizes.some((s) => !Number.isInteger(s) || s < 32)) {
    throw new Error(`--images must be a positive integer and --sizes integers >= 32, got ${values.images} / ${values.sizes}`);
  }
  const params = resolveParams({
    ...(values.flips === undefined ? {} : { flips: values.flips === 'true' }),
    ...(values.dense === undefined ? {} : { denseMatching: values.dense === 'true' }),
    ...(values.detector === undefined ? {} : { detector: values.detector }),
    ...(values.sift === undefined ? {} : { sift: values.sift === 'true' }),
    ...(values['stage-worker'] === undefined ? {} : { stageWorker: values['stage-worker'] === 'true' }),
  });
  if (values.hamming !== undefined && values.hamming !== 'wasm' && values.hamming !== 'js') throw new Error(`--hamming must be wasm or js, got ${values.hamming}`);
  const cv = await loadOpenCv();
  await prepareHammingKernel();
  setHammingKernelEnabled(values.hamming !== 'js');
  const hamming = values.hamming === 'js' ? 'js' : (hammingKernelUnavailable() ?? 'wasm');
  // started before timing: a detection uses the worker once it listens
  const stageWorker = params.stageWorker ? ((await prepareStageWorker()) ?? 'on') : 'off';
  const rng = new Rng('bench-classical');
  const results: Record<string, object> = {};
  for (const side of sizes) {
    const images = Array.from({ length: n }, (_, k) =>
      generateImage(rng.fork(), { family: FAMILIES[k % FAMILIES.length], forged: true, width: side, height: side }).image,
    );
    detectWith(cv, images[0], params); // warm-up: JIT and WASM heap growth
    const wall: number[] = [];
    const cpu: number[] = [];
    const stages: Record<string, number[]> = {};
    const kinds = ['exact-twins', 'twins-blocks', 'twins-blocks-resampled'] as const;
    const evidence: Record<string, number[]> = Object.fromEntries(kinds.map((k) => [k, []]));
    for (const image of images) {
      for (const kind of kinds) {
        const e0 = performance.now();
        computeEvidence(kind, image);
        evidence[kind].push(performance.now() - e0);
      }
      const c0 = process.cpuUsage();
      const t0 = performance.now();
      const r = detectWith(cv, image, params);
      wall.push(performance.now() - t0);
      const c = process.cpuUsage(c0);
      cpu.push((c.user + c.system) / 1000);
      for (const [k, v] of Object.entries(r.debug.timings)) (stages[k] ??= []).push(v);
    }
    results[String(side)] = {
      images: n,
      msPerImage: round(mean(wall)),
      msPerImageMedian: round(median(wall)),
      msPerImageP90: round(quantile(wall, 0.9)),
      cpuMsPerImage: round(mean(cpu)),
      stageMsMedian: Object.fromEntries(Object.entries(stages).map(([k, v]) => [k, round(median(v))])),
      stageMsPerMp: Object.fromEntries(Object.entries(stages).map(([k, v]) => [k, round(median(v) / ((side * side) / 1e6))])),
      evidenceMsMedian: Object.fromEntries(Object.entries(evidence).map(([k, v]) => [k, round(median(v))])),
    };
  }
  return { bench: 'classical', params: { detector: params.detector, sift: params.sift, maxKeypoints: params.maxKeypoints, flips: params.flips, denseMatching: params.denseMatching, laneMatching: params.laneMatching, periodicBreaks: params.periodicBreaks, hamming, stageWorker }, loadAverage: os.loadavg().map(round), sizes: results };
}


if (require.main === module) {
  run(process.argv.slice(2)).then(
    (r) => console.log(JSON.stringify(r, null, 2)),
    (err) => {
      console.error(err instanceof Error ? err.message : err);
      process.exitCode = 1;
    },
  );
}
