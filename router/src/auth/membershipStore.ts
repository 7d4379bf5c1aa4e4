import type { Redis } from 'ioredis';
import type { Membership } from '@lt/context';
import { identityKeys, SIGNED_OUT_TTL_SECONDS, type IdentityEvent, type IdentityWatch } from '@lt/identity';

/** What the shared (L2) cache answers for one request in one round trip. */
export interface StoreLookup {
  /** undefined = not cached. */
  membership: Membership | undefined;
  revoked: boolean;
  /** The user's last sign-out everywhere (epoch s): tokens issued at or before it are refused. */
  signedOutAt: number | null;
}

/**
 * The membership cache shared by router replicas, plus the revocation list. Entries never outlive
 * the token that filled them (`ttlSeconds` is capped by the caller at the token's expiry).
 */
export interface MembershipStore {
  lookup(sub: string, tokenId: string | null): Promise<StoreLookup>;
  /**
   * Caches a membership read from Postgres, with what Postgres says refuses the user's tokens
   * (the cache of the durable revocations: a flushed store gets them back with the entry).
   */
  put(membership: Membership, ttlSeconds: number, revocations?: Revocations): Promise<void>;
  /** Readiness probe. */
  ping(): Promise<void>;
  stop(): Promise<void>;
}

/** The durable revocations of one user (from Postgres). */
export interface Revocations {
  /** Last sign-out everywhere, epoch s. */
  signedOutAt: number | null;
  /** Revoked token families with their expiry (epoch s). */
  revoked: { id: string; exp: number }[];
}

function parse(raw: string | null): Membership | undefined {
  if (!raw) return undefined;
  try {
    return JSON.parse(raw) as Membership;
  } catch {
    return undefined;
  }
}

/**
 * Redis: `identity:membership:<sub>` (JSON, EX ≤ token), `identity:revoked:<tokenId>` written by
 * the Redis identity bus, `identity:tenant:<id>:subs` so a tenant's entries can be dropped at once.
 * Invalidation is written by the publisher (`createRedisIdentityBus`); every router that hears the
 * event deletes again, which narrows the read-DB-then-write-cache race window.
 */
export function createRedisMembershipStore(redis: Redis, watch?: IdentityWatch): MembershipStore {
  // Applies every identity event again (idempotent). The Redis bus already wrote these effects
  // before announcing; re-applying narrows the window in which a replica that read the database
  // just before the change writes a stale entry back. Use this store with the Redis bus only
  // (createRouterApp opens it on Redis when given Redis): with an in-memory bus the deletes race
  // the resolver's refill.
  const apply = async (e: IdentityEvent): Promise<void> => {
    switch (e.type) {
      case 'user.changed':
        await redis.del(identityKeys.membership(e.sub));
        break;
      case 'tenant.status': {
        const subs = await redis.smembers(identityKeys.tenantSubs(e.tenantId));
        if (subs.length > 0) await redis.del(...subs.map((sub) => identityKeys.membership(sub)));
        break;
      }
      case 'token.revoked': {
        const ttl = e.expiresAt - Math.floor(Date.now() / 1000);
        if (ttl > 0) await redis.set(identityKeys.revoked(e.tokenId), '1', 'EX', ttl);
        break;
      }
      case 'user.signed_out':
        await redis.set(identityKeys.signedOut(e.sub), String(e.before), 'EX', SIGNED_OUT_TTL_SECONDS);
        break;
    }
  };
  const unsubscribe = watch?.subscribe((e) => {
    void apply(e).catch(() => undefined);
  });
  return {
    async lookup(sub, tokenId) {
      const p = redis.pipeline().get(identityKeys.membership(sub)).get(identityKeys.signedOut(sub));
      if (tokenId) p.exists(identityKeys.revoked(tokenId));
      const res = (await p.exec()) ?? [];
      for (const [err] of res) if (err) throw err;
      const signedOut = res[1]?.[1] as string | null;
      return {
        membership: parse(res[0]?.[1] as string | null),
        revoked: tokenId ? res[2]?.[1] === 1 : false,
        signedOutAt: signedOut === null || signedOut === undefined ? null : Number(signedOut),
      };
    },
    async put(m, ttlSeconds, revocations) {
      const p = redis.multi();
      // Revocations first, in the same transaction: the entry never exists without them.
      const nowS = Math.floor(Date.now() / 1000);
      for (const r of revocations?.revoked ?? [])
        if (r.exp > nowS) p.set(identityKeys.revoked(r.id), '1', 'EX', r.exp - nowS);
      const out = revocations?.signedOutAt ?? null;
      if (out !== null && out + SIGNED_OUT_TTL_SECONDS > nowS)
        p.set(identityKeys.signedOut(m.sub), String(out), 'EX', out + SIGNED_OUT_TTL_SECONDS - nowS);
      p.set(identityKeys.membership(m.sub), JSON.stringify(m), 'EX', ttlSeconds);
      if (m.tenantId) {
        const set = identityKeys.tenantSubs(m.tenantId);
        // The index lives as long as the longest entry it names (+ a margin).
        p.sadd(set, m.sub)
          .expire(set, ttlSeconds + 60, 'GT')
          .expire(set, ttlSeconds + 60, 'NX');
      }
      await p.exec();
    },
    async ping() {
      await redis.ping();
    },
    async stop() {
      unsubscribe?.();
    },
  };
}

/**
 * One process (no Redis): the same semantics in a Map. It applies the identity events itself,
 * since the in-memory bus records nothing durable.
 */
export function createMemoryMembershipStore(watch?: IdentityWatch, now: () => number = Date.now): MembershipStore {
  const entries = new Map<string, { m: Membership; until: number }>();
  const revoked = new Map<string, number>();
  /** sub → [last sign-out everywhere (epoch s), forget after (ms)]. */
  const signedOut = new Map<string, [number, number]>();
  const unsubscribe = watch?.subscribe((e) => {
    switch (e.type) {
      case 'user.changed':
        entries.delete(e.sub);
        break;
      case 'tenant.status':
        for (const [sub, v] of entries) if (v.m.tenantId === e.tenantId) entries.delete(sub);
        break;
      case 'token.revoked':
        revoked.set(e.tokenId, e.expiresAt * 1000);
        break;
      case 'user.signed_out':
        signedOut.set(e.sub, [e.before, now() + SIGNED_OUT_TTL_SECONDS * 1000]);
        break;
    }
  });
  return {
    async lookup(sub, tokenId) {
      const t = now();
      const e = entries.get(sub);
      if (e && e.until <= t) entries.delete(sub);
      const r = tokenId ? revoked.get(tokenId) : undefined;
      if (r !== undefined && r <= t) revoked.delete(tokenId!);
      const so = signedOut.get(sub);
      if (so && so[1] <= t) signedOut.delete(sub);
      return {
        membership: e && e.until > t ? e.m : undefined,
        revoked: r !== undefined && r > t,
        signedOutAt: so && so[1] > t ? so[0] : null,
      };
    },
    async put(m, ttlSeconds, revocations) {
      const t = now();
      for (const r of revocations?.revoked ?? []) if (r.exp * 1000 > t) revoked.set(r.id, r.exp * 1000);
      const out = revocations?.signedOutAt ?? null;
      if (out !== null && (out + SIGNED_OUT_TTL_SECONDS) * 1000 > t)
        signedOut.set(m.sub, [Math.max(out, signedOut.get(m.sub)?.[0] ?? 0), (out + SIGNED_OUT_TTL_SECONDS) * 1000]);
      entries.set(m.sub, { m, until: t + ttlSeconds * 1000 });
    },
    async ping() {},
    async stop() {
      unsubscribe?.();
    },
  };
}
