import { Redis, type RedisOptions } from 'ioredis';

/**
 * Every Redis connection of every process is built here, so the outage behaviour lives in one
 * place. Redis holds caches, revocation copies, rate limits and live channels, never the only copy
 * of anything a request needs, so a command must fail fast rather than wait for a reconnect:
 * - `commandTimeout`: every command (queued while reconnecting or sent) fails after this long;
 * - `maxRetriesPerRequest: 1`: a queued command is failed at the first failed reconnect;
 * - the offline queue stays on (commands issued while connecting at start are sent once connected);
 * - reconnects back off from 50 ms to 2 s.
 */
export const REDIS_COMMAND_TIMEOUT_MS = 500;

export interface RedisConnectionOptions {
  /** Per-command deadline, ms. Default {@link REDIS_COMMAND_TIMEOUT_MS}. */
  commandTimeoutMs?: number;
  /** Called with connection errors (ioredis emits them on every failed reconnect). */
  onError?: (err: Error) => void;
  /** Connect on the first command instead of at once. */
  lazyConnect?: boolean;
}

export function redisConnectionOptions(o: RedisConnectionOptions = {}): RedisOptions {
  return {
    commandTimeout: o.commandTimeoutMs ?? REDIS_COMMAND_TIMEOUT_MS,
    maxRetriesPerRequest: 1,
    enableOfflineQueue: true,
    connectTimeout: 2_000,
    retryStrategy: (times) => Math.min(50 * 2 ** Math.min(times, 6), 2_000),
    ...(o.lazyConnect ? { lazyConnect: true } : {}),
  };
}

/** A command connection (or, with a longer `commandTimeoutMs`, a SUBSCRIBE connection). */
export function createRedisConnection(url: string, o: RedisConnectionOptions = {}): Redis {
  const redis = new Redis(url, redisConnectionOptions(o));
  // Without a listener ioredis prints every reconnect failure as an unhandled error event.
  redis.on('error', (err: Error) => o.onError?.(err));
  return redis;
}

/** Deadline of a SUBSCRIBE connection's commands: (re)subscribing may wait for a reconnect. */
export const REDIS_SUBSCRIBE_TIMEOUT_MS = 5_000;

/** A connection dedicated to SUBSCRIBE, with the same settings but a longer command deadline. */
export function createRedisSubscriber(url: string, o: RedisConnectionOptions = {}): Redis {
  return createRedisConnection(url, { commandTimeoutMs: REDIS_SUBSCRIBE_TIMEOUT_MS, ...o });
}

const UNAVAILABLE =
  /^(Command timed out|Connection is closed\.|Stream isn't writeable|Reached the max retries per request limit)/;

/** Whether an error says Redis is unreachable or too slow (not a bug): callers fall back or retry. */
export function isRedisUnavailableError(err: unknown): boolean {
  if (!err || typeof err !== 'object') return false;
  const e = err as { name?: unknown; message?: unknown; code?: unknown };
  if (e.name === 'MaxRetriesPerRequestError') return true;
  if (typeof e.code === 'string' && /^(ECONNREFUSED|ECONNRESET|ETIMEDOUT|EPIPE|ENOTFOUND)$/.test(e.code)) return true;
  return typeof e.message === 'string' && UNAVAILABLE.test(e.message);
}
