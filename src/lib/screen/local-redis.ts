/**
 * A throwaway Redis for tests, benches and trying distributed screening on one machine: Debian's redis-server on a
 * free loopback port (127.0.0.1 only), no persistence (--save '' --appendonly no), its files in a temp folder,
 * stopped by its own pid. Nothing else is contacted.
 */
import { spawn, spawnSync, type ChildProcess } from 'child_process';
import * as fs from 'fs';
import * as os from 'os';
import * as path from 'path';
import { ScreenError } from '../errors';
import { connectRedis } from './redis';
import { freePort } from '../util/net';

/** The redis-server executable on PATH, or undefined. */
export function redisServerPath(): string | undefined {
  const r = spawnSync('sh', ['-c', 'command -v redis-server'], { encoding: 'utf8' });
  const p = r.stdout.trim();
  return r.status === 0 && p ? p : undefined;
}


export interface LocalRedis {
  url: string;
  proc: ChildProcess;
  stop(): Promise<void>;
}

export async function startLocalRedis(): Promise<LocalRedis> {
  const bin = redisServerPath();
  if (!bin) throw new ScreenError('redis-server is not installed (Debian: apt-get install redis-server)');
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'sifd-redis-'));
  const port = await freePort();
  const proc = spawn(bin, ['--port', String(port), '--bind', '127.0.0.1', '--save', '', '--appendonly', 'no', '--dir', dir, '--protected-mode', 'yes'], {
    stdio: ['ignore', 'ignore', 'pipe'],
  });
  const url = `redis://127.0.0.1:${port}`;
  const stop = async () => {
    if (proc.exitCode === null && proc.signalCode === null) {
      const exited = new Promise((r) => proc.once('exit', r));
      proc.kill('SIGTERM');
      await exited;
    }
    fs.rmSync(dir, { recursive: true, force: true });
  };
  for (let i = 0; ; i++) {
    try {
      const c = await connectRedis(url, 1000);
      c.disconnect();
      return { url, proc, stop };
    } catch (err) {
      if (i >= 40 || proc.exitCode !== null) {
        await stop();
        throw new ScreenError(`local redis-server did not start: ${(err as Error).message}`);
      }
      await new Promise((r) => setTimeout(r, 100));
    }
  }
}
