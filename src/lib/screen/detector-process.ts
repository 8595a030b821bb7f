/**
 * The parent's handle on one detector child process (local-worker.ts): it builds the detector once and screens
 * the jobs it is sent, one at a time. The local pool (pool.ts) and the BullMQ worker (queue-worker.ts) both run
 * their images in these, so a detector that crashes or is killed takes one job with it. The child's exit is
 * watched from the moment it is forked: one that dies while starting or mid-job rejects at once (BullMQ 6.7's own
 * sandbox does not do this for a child that dies while starting: that job then hangs, its lock renewed forever).
 */
import { fork, type ChildProcess } from 'child_process';
import * as path from 'path';
import { ScreenError } from '../errors';
import type { DetectorSpec } from './detector';
import type { FromWorker, ToWorker } from './local-worker';
import type { ScreenJob, ScreenResult } from './types';

/** The process died (killed, out of memory) while it was starting or screening. */
export class ProcessDied extends Error {}

export class DetectorProcess {
  private pending?: { resolve(r: ScreenResult): void; reject(e: Error): void };
  private exitReason?: string;

  private constructor(readonly proc: ChildProcess) {
    proc.on('message', (m: FromWorker) => {
      if (m.type === 'result' && this.pending) {
        const p = this.pending;
        this.pending = undefined;
        p.resolve(m.result);
      }
    });
    proc.on('exit', (code, signal) => {
      this.exitReason = signal ? `killed by ${signal}` : `exited with code ${code}`;
      this.pending?.reject(new ProcessDied(this.exitReason));
      this.pending = undefined;
    });
  }

  /** Fork a detector process; resolves once its detector is built (rejects when it dies or cannot build it). */
  static start(spec: DetectorSpec): Promise<DetectorProcess> {
    const proc = fork(path.join(__dirname, 'local-worker.ts'), [], {
      execArgv: ['--require', require.resolve('tsx/cjs')],
      // one core per process: wasm threads inside one would compete with the other processes
      env: { ...process.env, SIFD_WASM_THREADS: '1' },
      stdio: ['ignore', 'inherit', 'inherit', 'ipc'],
    });
    const w = new DetectorProcess(proc);
    return new Promise((resolve, reject) => {
      const onMessage = (m: FromWorker) => {
        if (m.type === 'ready') resolve(w);
        else if (m.type === 'fatal') reject(new ScreenError(`detector process could not start its detector: ${m.error}`));
        else return;
        proc.off('message', onMessage);
        proc.off('exit', onExit);
      };
      const onExit = () => reject(new ProcessDied(`detector process ${w.exitReason ?? 'exited'} before it was ready`));
      proc.on('message', onMessage);
      proc.once('exit', onExit);
      w.send({ type: 'init', spec });
    });
  }

  get alive(): boolean {
    return this.exitReason === undefined;
  }

  get pid(): number {
    return this.proc.pid ?? 0;
  }

  private send(msg: ToWorker): void {
    this.proc.send(msg);
  }

  /** Screen one job; rejects with ProcessDied when the process dies first. */
  run(job: ScreenJob, attempts: number): Promise<ScreenResult> {
    if (this.exitReason) return Promise.reject(new ProcessDied(this.exitReason));
    return new Promise((resolve, reject) => {
      this.pending = { resolve, reject };
      this.send({ type: 'job', job, attempts });
    });
  }

  /** Let it go: it exits when its IPC channel closes. */
  stop(): void {
    if (this.alive && this.proc.connected) this.proc.disconnect();
  }
}
