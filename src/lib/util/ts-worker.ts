import * as fs from 'fs';
import { Worker, type WorkerOptions } from 'worker_threads';
import { BackendError } from '../errors';

/**
 * A worker thread running a TypeScript entry file. The eval'd bootstrap registers tsx first, whatever runs the
 * parent (tsx, node --import tsx, or tslab), and the parent's execArgv is dropped (loaders it names need not apply).
 */
export function startTsWorker(entry: string, options: Omit<WorkerOptions, 'eval'> = {}): Worker {
  if (!fs.existsSync(entry)) throw new BackendError('worker entry not found', entry);
  const code = `require(${JSON.stringify(require.resolve('tsx/cjs'))}); require(${JSON.stringify(entry)});`;
  return new Worker(code, { execArgv: [], ...options, eval: true });
}
