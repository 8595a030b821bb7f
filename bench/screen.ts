/**
 * `npm run bench -- screen [--n N] [--full]`: screening throughput on this machine. Images/s of the detector in
 * this process (the single-process rate), of 1 and 2 local worker processes, and of 1 and 2 BullMQ workers on a
 * loopback Redis (started and stopped here), each from a fresh result store; the steady rate (first to last result,
 * without worker start-up) and the wall rate; the queue's overhead per image (BullMQ minus local, one worker each).
 * Default detector: the classical one with small parameters on 128-160 px synthetic figures (the tests' setting);
 * --full uses the classical defaults (about 1 s an image).
 */
import { spawn, type ChildProcess } from 'child_process';
import * as fs from 'fs';
import * as os from 'os';
import * as path from 'path';
import { generateDataset } from '../src/lib/data/synth/index';
import { createDetector, detectorId, postprocessOf, type DetectorSpec } from '../src/lib/screen/detector';
import { hashFile, resultKey, walkFolder } from '../src/lib/screen/corpus';
import { redisServerPath, startLocalRedis } from '../src/lib/screen/local-redis';
import { screenCorpus } from '../src/lib/screen/screen';
import { screenImage } from '../src/lib/screen/screen-one';
import { ResultStore } from '../src/lib/screen/store';

const CHEAP_PARAMS = { maxKeypoints: 150, minSide: 128, maxSide: 160 };

interface Rate {
  imagesPerSecond: number;
  steadyImagesPerSecond: number;
  steadyPerWorker: number;
  /** The machine's 1-minute load average when the measurement ended (this bench's own processes included). */
  load1: number;
}

const load1 = () => Number(os.loadavg()[0].toFixed(2));

/** Wall rate, and the steady rate from the store's finish times (first to last result). */
function rates(db: string, n: number, seconds: number, workers: number): Rate {
  const store = ResultStore.open(db, { readonly: true });
  const times = store.results().map((r) => Date.parse(r.finishedAt)).sort((a, b) => a - b);
  store.close();
  const span = (times[times.length - 1] - times[0]) / 1000;
  const steady = span > 0 ? (times.length - 1) / span : 0;
  return { imagesPerSecond: n / seconds, steadyImagesPerSecond: steady, steadyPerWorker: steady / workers, load1: load1() };
}

function paramArgs(params: Record<string, number> | undefined): string[] {
  return Object.entries(params ?? {}).flatMap(([k, v]) => ['--param', `${k}=${v}`]);
}

export async function run(args: string[]): Promise<object> {
  const nArg = args.indexOf('--n');
  const n = nArg >= 0 ? Number(args[nArg + 1]) : 80;
  const full = args.includes('--full');
  const params = full ? undefined : CHEAP_PARAMS;
  const spec: DetectorSpec = { kind: 'classical', params };
  const loadAtStart = os.loadavg().map((l) => Number(l.toFixed(2)));
  const tmp = fs.mkdtempSync(path.join(os.tmpdir(), 'sifd-bench-screen-'));
  const root = path.join(tmp, 'corpus');
  try {
    await generateDataset({ out: root, n, seed: 'bench-screen', sizes: { min: 128, max: 160 }, testFraction: 0 });
    const files = walkFolder(root).files;
    const id = detectorId(spec);

    // the single-process rate: the detector in this process, no workers, no store
    const predictor = await createDetector(spec);
    await screenImage(predictor, { key: 'warm', sha256: hashFile(files[0].path), detector: id, path: files[0].path }, postprocessOf(spec));
    const t0 = performance.now();
    for (const f of files) {
      const sha256 = hashFile(f.path);
      await screenImage(predictor, { key: resultKey(sha256, id), sha256, detector: id, path: f.path }, postprocessOf(spec));
    }
    const single = files.length / ((performance.now() - t0) / 1000);
    predictor.dispose();

    const out: Record<string, unknown> = {
      machine: { cores: os.availableParallelism(), loadavgAtStart: loadAtStart, loadAfterSingleProcess: load1() },
      images: files.length,
      detector: full ? 'classical (defaults)' : `classical ${JSON.stringify(CHEAP_PARAMS)}`,
      singleProcessImagesPerSecond: single,
    };
    for (const workers of [1, 2]) {
      const db = path.join(tmp, `local-${workers}.sqlite`);
      const s = await screenCorpus({ images: root, detector: spec, db, workers, progress: false });
      out[`local${workers}`] = rates(db, s.screened, s.seconds, workers);
    }
    if (!redisServerPath()) {
      out.bullmq = 'skipped: redis-server is not installed';
      return out;
    }
    const redis = await startLocalRedis();
    try {
      for (const workers of [1, 2]) {
        const name = `bench-${workers}`;
        const procs: ChildProcess[] = Array.from({ length: workers }, () =>
          spawn(process.execPath, [path.join(__dirname, '..', 'bin', 'sifd.js'), 'worker', '--redis', redis.url, '--queue', name, '--detector', 'classical', ...paramArgs(params)], { stdio: 'ignore' }),
        );
        try {
          const db = path.join(tmp, `bullmq-${workers}.sqlite`);
          const s = await screenCorpus({ images: root, detector: spec, db, queue: { redis: redis.url, name, batch: 100 }, progress: false });
          out[`bullmq${workers}`] = rates(db, s.screened, s.seconds, workers);
        } finally {
          await Promise.all(procs.map((p) => new Promise((r) => (p.once('exit', r), p.kill('SIGTERM')))));
        }
      }
    } finally {
      await redis.stop();
    }
    const local1 = out.local1 as Rate;
    const bull1 = out.bullmq1 as Rate;
    out.queueOverheadMsPerImage = 1000 / bull1.steadyImagesPerSecond - 1000 / local1.steadyImagesPerSecond;
    out.steadyPerCoreVsSingleProcess = Object.fromEntries(
      ['local1', 'local2', 'bullmq1', 'bullmq2'].map((k) => [k, Number(((out[k] as Rate).steadyPerWorker / single).toFixed(3))]),
    );
    return out;
  } finally {
    fs.rmSync(tmp, { recursive: true, force: true });
  }
}
