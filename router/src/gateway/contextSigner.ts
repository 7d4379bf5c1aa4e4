import { signContext, type Caller } from '@lt/context';

export interface ContextSignerOptions {
  /** HMAC secret shared with the subgraphs. */
  secret: string;
  /** Lifetime of each signed context, seconds. Default 30. */
  ttlSeconds?: number;
  /** A signature is reused while it has at least this long to live, seconds. Default 15 (> a subgraph call's deadline). */
  minRemainingSeconds?: number;
  /** Callers remembered at once; the oldest is dropped past it. Default 10,000. */
  maxEntries?: number;
  /** Clock, seconds since epoch (tests). */
  now?: () => number;
}

export interface ContextSigner {
  /** The signed `x-router-context` for this caller (the request id is not part of it). */
  sign(caller: Caller): string;
}

/**
 * Signs each caller's context once and reuses it while it has time left, instead of one HMAC per
 * subgraph call. The cache key is everything the signature covers (membership, token id and
 * expiry, client address), so two callers that differ in anything signed never share a signature;
 * the request id travels in its own header. The router verifies the token on every request before
 * a signature is reused, so a revoked token or a changed membership never reaches a subgraph with
 * an old signature (a changed membership is a different key).
 */
export function createContextSigner(o: ContextSignerOptions): ContextSigner {
  const ttl = o.ttlSeconds ?? 30;
  const minRemaining = Math.min(o.minRemainingSeconds ?? 15, ttl);
  const max = o.maxEntries ?? 10_000;
  const now = o.now ?? (() => Math.floor(Date.now() / 1000));
  const cache = new Map<string, { token: string; exp: number }>();
  return {
    sign(caller) {
      const m = caller.membership;
      const key = JSON.stringify([
        m?.userId,
        m?.sub,
        m?.tenantId,
        m?.role,
        m?.tenantStatus,
        caller.tokenId,
        caller.tokenExpiresAt,
        caller.clientAddress,
      ]);
      const t = now();
      const hit = cache.get(key);
      if (hit && hit.exp - t >= minRemaining) return hit.token;
      const token = signContext(caller, { secret: o.secret, ttlSeconds: ttl, now: () => t });
      cache.delete(key);
      if (cache.size >= max) cache.delete(cache.keys().next().value!);
      cache.set(key, { token, exp: t + ttl });
      return token;
    },
  };
}
