import * as fs from 'fs';
import * as os from 'os';
import * as path from 'path';
import { spawnSync } from 'child_process';
import { parseArgs } from 'util';
import { median, round1 as round } from '../src/lib/util/stats';

const USAGE = `versus-torch [--rounds 3] [--steps 10] [--threads 2] [--net tensorflow,wasm,torch,torch-cl]
             [--segformer tensorflow,torch] [--segformer-rounds 1] [--segformer-steps 3] [--python PATH]
  Runs the bench-net train step (train-step.ts, 4x256x256) on each sifd backend and its PyTorch twin
  (bench/torch/benchnet.py), alternated back to back, each run its own process, --rounds times; then SegFormer b0
  (segformer.ts --model segformer-seg, 256 px batch 2 and 512 px batch 1) against HF SegformerForSemanticSegmentation
  (bench/torch/segformer.py). Entries: tensorflow, wasm (XNNPACK threads), wasm-dp2 (--data-parallel 2), torch
  (NCHW), torch-cl (channels_last); '' skips a part. PyTorch runs in a scratch venv (environment/.cache/torch-venv,
  torch + transformers from the pip index; made on first use) or --python / SIFD_BENCH_PYTHON.`;

const ROOT = path.resolve(__dirname, '..');

/** A python with torch and transformers: the given one, or the scratch venv (created on first use). */
function torchPython(given?: string): { python?: string; reason?: string } {
  const explicit = given ?? process.env.SIFD_BENCH_PYTHON;
  if (explicit) return { python: explicit };
  const venv = path.join(ROOT, 'environment/.cache/torch-venv');
  const python = path.join(venv, 'bin/python');
  const ok = () => spawnSync(python, ['-c', 'import torch, transformers'], { stdio: 'ignore' }).status === 0;
  if (fs.existsSync(python) && ok()) return { python };
  console.error(`versus-torch: creating ${path.relative(ROOT, venv)} with torch and transformers (pip, once)`);
  const steps: [string, string[]][] = [
    ['python3', ['-m', 'venv', venv]],
    [path.join(venv, 'bin/pip'), ['install', '--quiet', '--disable-pip-version-check', '--retries', '0', '--timeout', '5', 'torch', 'transformers']],
  ];
  for (const [cmd, args] of steps) {
    const r = spawnSync(cmd, args, { stdio: ['ignore', 'ignore', 'pipe'], encoding: 'utf8', env: { ...process.env, PIP_CACHE_DIR: path.join(ROOT, 'environment/.cache/pip') } });
    if (r.status !== 0) return { reason: `${cmd} ${args.join(' ')} failed: ${(r.stderr ?? '').trim().split('\n').pop()}` };
  }
  return ok() ? { python } : { reason: 'torch or transformers does not import in the scratch venv' };
}

/** Runs one bench process and parses the JSON object it prints. */
function runJson(cmd: string, args: readonly string[], env: Record<string, string>): Record<string, unknown> {
  const r = spawnSync(cmd, args, { cwd: ROOT, encoding: 'utf8', env: { ...process.env, ...env }, maxBuffer: 1 << 26 });
  const out = r.stdout ?? '';
  const start = out.indexOf('{');
  if (r.status !== 0 || start < 0) throw new Error(`${path.basename(cmd)} ${args.join(' ')} failed (${r.status}): ${(r.stderr ?? '').trim().split('\n').slice(-3).join(' | ')}`);
  return JSON.parse(out.slice(start)) as Record<string, unknown>;
}

const sifd = (bench: string, args: string[]) => [process.execPath, ['--import', 'tsx', path.join(ROOT, 'bench/run.ts'), bench, ...args]] as const;

export async function run(argv: string[]): Promise<object> {
  const { values } = parseArgs({
    args: argv,
    options: {
      rounds: { type: 'string', default: '3' },
      steps: { type: 'string', default: '10' },
      threads: { type: 'string', default: '2' },
      net: { type: 'string', default: 'tensorflow,wasm,torch,torch-cl' },
      segformer: { type: 'string', default: 'tensorflow,torch' },
      'segformer-rounds': { type: 'string', default: '1' },
      'segformer-steps': { type: 'string', default: '3' },
      python: { type: 'string' },
      help: { type: 'boolean', default: false },
    },
  });
  if (values.help) return { usage: USAGE };
  const loadStart = round(os.loadavg()[0]);
  const threads = values.threads!;
  const steps = values.steps!;
  const list = (s: string) => s.split(',').map((v) => v.trim()).filter(Boolean);
  const netEntries = list(values.net!);
  const segEntries = list(values.segformer!);
  const needTorch = [...netEntries, ...segEntries].some((e) => e.startsWith('torch'));
  const torch = needTorch ? torchPython(values.python) : {};
  const env = { SIFD_TF_THREADS: threads, TF_NUM_INTRAOP_THREADS: threads, SIFD_WASM_THREADS: threads };

  const net = (entry: string): Record<string, unknown> => {
    const common = ['--no-profile', '--steps', steps, '--warmup', '3'];
    switch (entry) {
      case 'tensorflow':
      case 'wasm':
        return runJson(...sifd('train-step', ['--backend', entry, ...common]), env);
      case 'wasm-dp2':
        return runJson(...sifd('train-step', ['--backend', 'wasm', '--data-parallel', '2', ...common]), { ...env, SIFD_WASM_THREADS: '1' });
      case 'torch':
      case 'torch-cl':
        if (!torch.python) throw new Error(`no PyTorch: ${torch.reason}`);
        return runJson(torch.python, [path.join(ROOT, 'bench/torch/benchnet.py'), '--threads', threads, '--steps', steps, ...(entry === 'torch-cl' ? ['--channels-last'] : [])], {});
      default:
        throw new Error(`unknown --net entry '${entry}'`);
    }
  };
  const seg = (entry: string): Record<string, unknown> => {
    const common = ['--sizes', '256,512', '--batch', '2,1', '--steps', values['segformer-steps']!];
    if (entry === 'torch') {
      if (!torch.python) throw new Error(`no PyTorch: ${torch.reason}`);
      return runJson(torch.python, [path.join(ROOT, 'bench/torch/segformer.py'), '--threads', threads, ...common], {});
    }
    return runJson(...sifd('segformer', ['--model', 'segformer-seg', '--backend', entry, ...common]), env);
  };

  // Alternated back to back: round r runs every entry once, so load changes hit all of them alike.
  const netRuns: Record<string, Record<string, unknown>[]> = {};
  for (let r = 0; r < Number(values.rounds); r++) {
    for (const e of netEntries) (netRuns[e] ??= []).push(safe(() => net(e)));
  }
  const segRuns: Record<string, Record<string, unknown>[]> = {};
  for (let r = 0; r < Number(values['segformer-rounds']); r++) {
    for (const e of segEntries) (segRuns[e] ??= []).push(safe(() => seg(e)));
  }

  const netSummary = Object.fromEntries(Object.entries(netRuns).map(([e, runs]) => [e, {
    step_ms_medians: runs.map((x) => x.step_ms_median ?? null),
    step_ms_median: medianOf(runs, (x) => x.step_ms_median),
    step_ms_min: minOf(runs, (x) => x.step_ms_min),
    step_cpu_ms_median: medianOf(runs, (x) => x.step_cpu_ms_median),
    infer_ms_median: medianOf(runs, (x) => x.infer_ms_median),
    ...(runs.some((x) => x.error) ? { errors: runs.map((x) => x.error).filter(Boolean) } : {}),
  }]));
  const torchBest = Math.min(...['torch', 'torch-cl'].map((e) => (netSummary[e]?.step_ms_median as number) ?? Infinity));
  const torchBestCpu = Math.min(...['torch', 'torch-cl'].map((e) => (netSummary[e]?.step_cpu_ms_median as number) ?? Infinity));
  const netCpuRatios = Object.fromEntries(Object.entries(netSummary).filter(([e]) => !e.startsWith('torch') && Number.isFinite(torchBestCpu))
    .map(([e, s]) => [`${e}_vs_fastest_torch_cpu_time`, s.step_cpu_ms_median === null ? null : Math.round((s.step_cpu_ms_median as number) / torchBestCpu * 100) / 100]));
  const netRatios = Object.fromEntries(Object.entries(netSummary).filter(([e]) => !e.startsWith('torch') && Number.isFinite(torchBest))
    .map(([e, s]) => [`${e}_vs_fastest_torch`, s.step_ms_median === null ? null : Math.round((s.step_ms_median as number) / torchBest * 100) / 100]));

  const segSummary: Record<string, unknown> = {};
  for (const size of ['256px', '512px']) {
    const per = Object.fromEntries(Object.entries(segRuns).map(([e, runs]) => [e, {
      train_step_ms_median: medianOf(runs, (x) => (x[size] as Record<string, number> | undefined)?.train_step_ms_median),
      train_step_cpu_ms_median: medianOf(runs, (x) => (x[size] as Record<string, number> | undefined)?.train_step_cpu_ms_median),
      infer_ms_median_batch1: medianOf(runs, (x) => (x[size] as Record<string, number> | undefined)?.infer_ms_median_batch1),
    }]));
    const t = per.torch?.train_step_ms_median;
    const tc = per.torch?.train_step_cpu_ms_median;
    const ratios = Object.fromEntries(Object.entries(per).filter(([e]) => e !== 'torch' && t)
      .map(([e, s]) => [`${e}_vs_torch`, s.train_step_ms_median === null ? null : Math.round((s.train_step_ms_median as number) / (t as number) * 100) / 100]));
    const cpuRatios = Object.fromEntries(Object.entries(per).filter(([e]) => e !== 'torch' && tc)
      .map(([e, s]) => [`${e}_vs_torch_cpu_time`, s.train_step_cpu_ms_median === null ? null : Math.round((s.train_step_cpu_ms_median as number) / (tc as number) * 100) / 100]));
    segSummary[size] = { batch: size === '256px' ? 2 : 1, ...per, ...ratios, ...cpuRatios };
  }
  const segErrors = Object.fromEntries(Object.entries(segRuns).flatMap(([e, runs]) => runs.filter((x) => x.error).map((x) => [e, x.error])));

  return {
    machine: { cores: os.cpus().length, cpu: os.cpus()[0]?.model, load_avg_1m_start: loadStart, load_avg_1m_end: round(os.loadavg()[0]) },
    threads: Number(threads),
    rounds: Number(values.rounds),
    ...(torch.reason ? { torch_unavailable: torch.reason } : {}),
    bench_net_4x256x256: { ...netSummary, ...netRatios, ...netCpuRatios },
    segformer_b0: { ...segSummary, ...(Object.keys(segErrors).length ? { errors: segErrors } : {}) },
  };
}

function safe(f: () => Record<string, unknown>): Record<string, unknown> {
  try {
    return f();
  } catch (err) {
    return { error: err instanceof Error ? err.message : String(err) };
  }
}

function numbers(runs: Record<string, unknown>[], get: (x: Record<string, unknown>) => unknown): number[] {
  return runs.map(get).filter((v): v is number => typeof v === 'number' && Number.isFinite(v));
}

function medianOf(runs: Record<string, unknown>[], get: (x: Record<string, unknown>) => unknown): number | null {
  const v = numbers(runs, get);
  return v.length ? round(median(v)) : null;
}

function minOf(runs: Record<string, unknown>[], get: (x: Record<string, unknown>) => unknown): number | null {
  const v = numbers(runs, get);
  return v.length ? round(Math.min(...v)) : null;
}
