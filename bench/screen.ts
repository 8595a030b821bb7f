/**
 * `npm run bench -- screen [--n N] [--full]`: screening throughput on this machine. Images/s of the detector in
 * this process (the single-process rate), of 1 and 2 local worker processes, and of 1 and 2 BullMQ workers on a
 * loopback Redis (started and stopped here), each from a fresh result store; the steady rate (first to last result,
 * without worker start-up) and the wall rate; the queue's overhead per image (BullMQ minus local, one worker each).
 * On a shared machine the rates measure the other jobs too, so it also reports CPU milliseconds per image over the
 * same steady window, summed over every process of the run (this one as coordinator, its worker and detector
 * processes, redis-server; from /proc, Linux only), against the in-process detector's: the per-core efficiency that
 * other load does not change (it does not see contention for memory bandwidth or caches). And the bare detector loop
 * in two processes side by side (no workers, queue or store): two workers are judged against what two processes
 * get on this machine at that moment, as well as against the single process.
 * Default detector: the classical one with small parameters on 128-160 px synthetic figures (the tests' setting);
 * --full uses the classical defaults (about 1 s an image).
 */
import { fork, spawn, type ChildProcess } from 'child_process';
import * as fs from 'fs';
import * as os from 'os';
import * as path from 'path';
import { generateDataset } from '../src/lib/data/synth/index';
import type { DetectorSpec } from '../src/lib/screen/detector';
import { walkFolder } from '../src/lib/screen/corpus';
import { redisServerPath, startLocalRedis } from '../src/lib/screen/local-redis';
import { screenCorpus } from '../src/lib/screen/screen';
import { ResultStore } from '../src/lib/screen/store';
import { detectorLoop, type LoopResult } from './workers/screen-loop';

const CHEAP_PARAMS = { maxKeypoints: 150, minSide: 128, maxSide: 160 };

interface Rate {
  imagesPerSecond: number;
  steadyImagesPerSecond: number;
  steadyPerWorker: number;
  /** CPU ms per image, all processes of the run, over the steady window (undefined without /proc). */
  cpuMsPerImage?: number;
  /** Cores the run's processes had on average over the steady window (the rest went to other jobs). */
  coresUsed?: number;
  /** The machine's 1-minute load average when the measurement ended (this bench's own processes included). */
  load1: number;
}

const load1 = () => Number(os.loadavg()[0].toFixed(2));

/** CPU clock ticks (user + system) of this process and of every live process below it, by pid, from /proc. */
function treeCpuTicks(): Map<number, number> | undefined {
  if (!fs.existsSync('/proc/self/stat')) return undefined;
  const children = new Map<number, number[]>();
  const cpu = new Map<number, number>();
  for (const d of fs.readdirSync('/proc')) {
    if (!/^\d+$/.test(d)) continue;
    let stat: string;
    try {
      stat = fs.readFileSync(`/proc/${d}/stat`, 'utf8');
    } catch {
      continue; // exited meanwhile
    }
    const f = stat.slice(stat.lastIndexOf(')') + 2).split(' '); // f[0] is field 3 (state)
    const ppid = Number(f[1]);
    children.set(ppid, [...(children.get(ppid) ?? []), Number(d)]);
    cpu.set(Number(d), Number(f[11]) + Number(f[12])); // utime, stime (fields 14, 15)
  }
  const tree = new Map<number, number>();
  for (const line = [process.pid]; line.length; ) {
    const pid = line.pop() as number;
    tree.set(pid, cpu.get(pid) ?? 0);
    line.push(...(children.get(pid) ?? []));
  }
  return tree;
}

/**
 * Samples the process tree's CPU every 500 ms (about 3 ms of CPU each) while a run goes; `at(t)` interpolates the CPU seconds spent by time
 * t. A process that exits keeps its last sample (a pool stops its first worker before the last result arrives;
 * dropping that process would subtract all its CPU, start-up included, from the window).
 */
function cpuSampler(): { stop(): void; at(t: number): number | undefined } {
  const lastSeen = new Map<number, number>();
  const samples: Array<{ t: number; cpu: number }> = [];
  const take = () => {
    const tree = treeCpuTicks();
    if (!tree) return;
    for (const [pid, ticks] of tree) lastSeen.set(pid, ticks);
    let ticks = 0;
    for (const v of lastSeen.values()) ticks += v;
    samples.push({ t: Date.now(), cpu: ticks / 100 }); // USER_HZ is 100 on Linux
  };
  take();
  const timer = setInterval(take, 500);
  return {
    stop: () => (clearInterval(timer), take()),
    at(t) {
      const i = samples.findIndex((s) => s.t >= t);
      if (i <= 0) return undefined;
      const [a, b] = [samples[i - 1], samples[i]];
      return a.cpu + ((b.cpu - a.cpu) * (t - a.t)) / Math.max(1, b.t - a.t);
    },
  };
}

/** detectorLoop in a child process of its own. */
function forkedLoop(spec: DetectorSpec, files: string[]): Promise<LoopResult> {
  const child = fork(path.join(__dirname, 'workers', 'screen-loop.ts'), [], { execArgv: ['--require', require.resolve('tsx/cjs')], stdio: ['ignore', 'inherit', 'inherit', 'ipc'] });
  return new Promise((resolve, reject) => {
    child.once('message', (r: LoopResult) => resolve(r));
    child.once('exit', (code) => reject(new Error(`bench/workers/screen-loop.ts exited with code ${code} before its result`)));
    child.send({ spec, files });
  });
}

/** Wall rate, the steady rate from the store's finish times (first to last result), and CPU per image over it. */
function rates(db: string, n: number, seconds: number, workers: number, cpu: ReturnType<typeof cpuSampler>): Rate {
  const store = ResultStore.open(db, { readonly: true });
  const times = store.results().map((r) => Date.parse(r.finishedAt)).sort((a, b) => a - b);
  store.close();
  const span = (times[times.length - 1] - times[0]) / 1000;
  const steady = span > 0 ? (times.length - 1) / span : 0;
  const [c0, c1] = [cpu.at(times[0]), cpu.at(times[times.length - 1])];
  const used = c0 !== undefined && c1 !== undefined ? c1 - c0 : undefined;
  const cpuMsPerImage = used !== undefined ? (1000 * used) / (times.length - 1) : undefined;
  const coresUsed = used !== undefined && span > 0 ? used / span : undefined;
  return { imagesPerSecond: n / seconds, steadyImagesPerSecond: steady, steadyPerWorker: steady / workers, cpuMsPerImage, coresUsed, load1: load1() };
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

    // the single-process rate: the detector in this process, no workers, no store
    const loop = await detectorLoop(spec, files.map((f) => f.path));
    const single = loop.images / loop.seconds;
    const singleCpuMs = loop.cpuMsPerImage;
    // the same loop in two processes side by side: what this machine gives two processes, without the machinery
    const pair = await Promise.all([0, 1].map(() => forkedLoop(spec, files.map((f) => f.path))));
    const bare2 = {
      steadyPerWorker: pair.reduce((t, r) => t + r.images / r.seconds, 0) / 2,
      cpuMsPerImage: pair.reduce((t, r) => t + r.cpuMsPerImage, 0) / 2,
      load1: load1(),
    };

    const out: Record<string, unknown> = {
      machine: { cores: os.availableParallelism(), loadavgAtStart: loadAtStart, loadAfterSingleProcess: load1() },
      images: files.length,
      detector: full ? 'classical (defaults)' : `classical ${JSON.stringify(CHEAP_PARAMS)}`,
      singleProcessImagesPerSecond: single,
      singleProcessCpuMsPerImage: singleCpuMs,
      singleProcessCoresUsed: (singleCpuMs * loop.images) / 1000 / loop.seconds,
      bareLoops2: bare2,
    };
    for (const workers of [1, 2]) {
      const db = path.join(tmp, `local-${workers}.sqlite`);
      const cpu = cpuSampler();
      const s = await screenCorpus({ images: root, detector: spec, db, workers, progress: false });
      cpu.stop();
      out[`local${workers}`] = rates(db, s.screened, s.seconds, workers, cpu);
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
          const cpu = cpuSampler();
          const s = await screenCorpus({ images: root, detector: spec, db, queue: { redis: redis.url, name, batch: 100 }, progress: false });
          cpu.stop();
          out[`bullmq${workers}`] = rates(db, s.screened, s.seconds, workers, cpu);
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
    const kinds = ['local1', 'local2', 'bullmq1', 'bullmq2'];
    // two workers against two bare loops on the same machine: the machinery's share, whatever the other load
    out.twoWorkersVsBareLoops2 = {
      local2: Number(((out.local2 as Rate).steadyPerWorker / bare2.steadyPerWorker).toFixed(3)),
      bullmq2: Number(((out.bullmq2 as Rate).steadyPerWorker / bare2.steadyPerWorker).toFixed(3)),
    };
    out.steadyPerCoreVsSingleProcess = Object.fromEntries(kinds.map((k) => [k, Number(((out[k] as Rate).steadyPerWorker / single).toFixed(3))]));
    // in-process CPU per image over the run's: 1 = no overhead; what a core gives when other jobs leave it alone
    out.cpuEfficiencyVsSingleProcess = Object.fromEntries(
      kinds.map((k) => [k, (out[k] as Rate).cpuMsPerImage ? Number((singleCpuMs / ((out[k] as Rate).cpuMsPerImage as number)).toFixed(3)) : null]),
    );
    return out;
  } finally {
    fs.rmSync(tmp, { recursive: true, force: true });
  }
}
