/** Redis connections for BullMQ (ioredis), from a redis:// URL, with a clear error when the URL is unusable. */
import IORedis from 'ioredis';
import { ConfigError, ScreenError } from '../errors';

/** Queue names become Redis key prefixes: BullMQ refuses ':'. */
export const DEFAULT_QUEUE = 'sifd-screen';

export function checkRedisUrl(url: string): string {
  if (!/^rediss?:\/\//i.test(url)) throw new ConfigError(`--redis must be a redis:// or rediss:// URL, got '${url}'`);
  return url;
}

export function checkQueueName(name: string): string {
  if (!/^[A-Za-z0-9_.-]+$/.test(name)) throw new ConfigError(`queue name may hold letters, digits, '_', '.', '-' only, got '${name}'`);
  return name;
}

/**
 * An ioredis connection as BullMQ wants it (maxRetriesPerRequest null: blocking commands wait through
 * reconnects). Resolves once the server answers PING; a server that cannot be reached fails in `timeoutMs`.
 */
export async function connectRedis(url: string, timeoutMs = 10_000): Promise<IORedis> {
  const conn = new IORedis(checkRedisUrl(url), { maxRetriesPerRequest: null, lazyConnect: true, enableOfflineQueue: true });
  conn.on('error', () => undefined); // reported through the PING below; later drops are retried by ioredis
  const timer = new Promise<never>((_, reject) => setTimeout(() => reject(new Error(`no answer in ${timeoutMs / 1000} s`)), timeoutMs).unref());
  try {
    await Promise.race([conn.connect().then(() => conn.ping()), timer]);
  } catch (err) {
    conn.disconnect();
    throw new ScreenError(`cannot reach Redis: ${(err as Error).message}`, url);
  }
  return conn;
}
