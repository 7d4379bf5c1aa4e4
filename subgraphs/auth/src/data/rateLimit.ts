import { createHash } from 'node:crypto';
import type { Redis } from 'ioredis';

/** Fixed-window counter: `hit` counts one attempt and says whether it is allowed. */
export interface RateLimiter {
  hit(key: string, limit: number, windowSeconds: number): Promise<{ allowed: boolean; retryAfterSeconds: number }>;
  /** Takes back one counted attempt (it failed for a reason that is not the caller's, e.g. an outage). */
  refund(key: string): Promise<void>;
}

/** Keys are hashed: e-mail addresses and client addresses never sit in Redis in clear. */
export type RateLimitKind = 'login-email' | 'login-address' | 'register-address' | 'refresh-address' | 'refresh-token';

export const rateLimitKey = (kind: RateLimitKind, value: string): string =>
  `ratelimit:${kind}:${createHash('sha256').update(value.toLowerCase()).digest('hex').slice(0, 32)}`;

export function createRedisRateLimiter(redis: Redis): RateLimiter {
  return {
    async hit(key, limit, windowSeconds) {
      const res = await redis.multi().incr(key).expire(key, windowSeconds, 'NX').ttl(key).exec();
      const count = Number(res?.[0]?.[1] ?? 0);
      const ttl = Number(res?.[2]?.[1] ?? windowSeconds);
      return { allowed: count <= limit, retryAfterSeconds: Math.max(1, ttl) };
    },
    async refund(key) {
      // DECR on an expired key would create -1 without a TTL: such a key is dropped.
      if ((await redis.decr(key)) <= 0) await redis.del(key);
    },
  };
}

/** One process only (no Redis configured). */
export function createMemoryRateLimiter(now: () => number = Date.now): RateLimiter {
  const windows = new Map<string, { count: number; resetAt: number }>();
  return {
    async hit(key, limit, windowSeconds) {
      const t = now();
      let w = windows.get(key);
      if (!w || w.resetAt <= t) {
        if (windows.size > 100_000) windows.clear();
        w = { count: 0, resetAt: t + windowSeconds * 1000 };
        windows.set(key, w);
      }
      w.count++;
      return { allowed: w.count <= limit, retryAfterSeconds: Math.max(1, Math.ceil((w.resetAt - t) / 1000)) };
    },
    async refund(key) {
      const w = windows.get(key);
      if (w && w.count > 0) w.count--;
    },
  };
}
