import type { Membership } from '@lt/context';
import { withSystem, type Db } from '@lt/db';
import { SIGNED_OUT_TTL_SECONDS, type IdentityWatch } from '@lt/identity';
import type { MembershipStore } from './membershipStore';

/** Outcome of resolving a verified token to a membership. */
export type Resolution = { kind: 'ok'; membership: Membership } | { kind: 'revoked' } | { kind: 'unknown_user' };

export interface MembershipResolverOptions {
  db: Db;
  store: MembershipStore;
  /** Events drop in-process entries at once (logout refused within a second). */
  watch?: IdentityWatch;
  /** Lifetime of the in-process (L1) entries, ms. Default 2_000: bounds a missed pub/sub message. */
  localTtlMs?: number;
  /** Max entries in L1 (oldest evicted). Default 10_000. */
  localMax?: number;
  /** Max lifetime of a shared cache entry, s (also capped by the token's expiry). Default 300. */
  maxTtlSeconds?: number;
  now?: () => number;
  /**
   * The shared store failed (Redis down or too slow): the lookup went on from Postgres. Called
   * with the error and the operation; counted in `stats.storeFailures` either way.
   */
  onStoreError?: (err: unknown, op: 'lookup' | 'put') => void;
}

export interface CacheStats {
  localHits: number;
  sharedHits: number;
  misses: number;
  /** Shared-store calls that failed (the lookup was answered from Postgres). */
  storeFailures: number;
}

/** What Postgres says about a `sub` (app_resolve_identity): membership and what refuses its tokens. */
interface DatabaseIdentity {
  membership: Membership;
  signedOutAt: number | null;
  revoked: { id: string; exp: number }[];
}

/**
 * `sub` → membership, through an in-process cache (per token, a few seconds), the shared store
 * (Redis) and finally Postgres (`app_resolve_identity`, the one SECURITY DEFINER path), which also
 * holds the durable sign-outs and revocations (Redis caches them). The L1 is keyed by token id so a
 * revoked token is checked against the store on every L1 miss. When the store fails (Redis down),
 * the lookup is answered from Postgres and the store is skipped.
 */
export class MembershipResolver {
  readonly stats: CacheStats = { localHits: 0, sharedHits: 0, misses: 0, storeFailures: 0 };
  private readonly local = new Map<string, { m: Membership; until: number }>();
  private readonly revoked = new Map<string, number>();
  /** sub → last sign-out everywhere heard here (epoch s); the store keeps it for other replicas. */
  private readonly signedOut = new Map<string, number>();
  /** Lookups in flight by token (or sub): a reconnect storm of one token costs one lookup. */
  private readonly inflight = new Map<string, Promise<Resolution>>();
  private readonly unsubscribe?: () => void;
  private readonly now: () => number;
  private readonly localTtlMs: number;
  private readonly localMax: number;
  private readonly maxTtlSeconds: number;

  constructor(private readonly o: MembershipResolverOptions) {
    this.now = o.now ?? Date.now;
    this.localTtlMs = o.localTtlMs ?? 2_000;
    this.localMax = o.localMax ?? 10_000;
    this.maxTtlSeconds = o.maxTtlSeconds ?? 300;
    this.unsubscribe = o.watch?.subscribe((e) => {
      switch (e.type) {
        case 'token.revoked':
          this.revoked.set(e.tokenId, e.expiresAt * 1000);
          this.local.delete(e.tokenId);
          break;
        case 'user.changed':
          for (const [k, v] of this.local) if (v.m.sub === e.sub) this.local.delete(k);
          break;
        case 'user.signed_out':
          this.noteSignedOut(e.sub, e.before);
          for (const [k, v] of this.local) if (v.m.sub === e.sub) this.local.delete(k);
          break;
        case 'tenant.status':
          for (const [k, v] of this.local) if (v.m.tenantId === e.tenantId) this.local.delete(k);
          break;
      }
    });
  }

  /** Hit ratio over every lookup so far (L1 + shared hits / all). */
  hitRatio(): number {
    const { localHits, sharedHits, misses } = this.stats;
    const total = localHits + sharedHits + misses;
    return total === 0 ? 0 : (localHits + sharedHits) / total;
  }

  /**
   * @param issuedAt the token's `iat` (epoch s): a token issued at or before the user's last
   *   sign-out everywhere is refused. Omitted = 0 (refused by any sign-out).
   */
  async resolve(sub: string, tokenId: string | null, exp: number, issuedAt = 0): Promise<Resolution> {
    const t = this.now();
    const out = this.signedOut.get(sub);
    if (out !== undefined && issuedAt <= out) return { kind: 'revoked' };
    const key = tokenId ?? `sub:${sub}`;
    const r = tokenId ? this.revoked.get(tokenId) : undefined;
    if (r !== undefined) {
      if (r > t) return { kind: 'revoked' };
      this.revoked.delete(tokenId!);
    }
    const hit = this.local.get(key);
    if (hit && hit.until > t && hit.m.sub === sub) {
      this.stats.localHits++;
      return { kind: 'ok', membership: hit.m };
    }
    if (hit) this.local.delete(key);

    const flightKey = `${key}|${sub}|${issuedAt}`;
    let flight = this.inflight.get(flightKey);
    let res: Resolution;
    if (!flight) {
      flight = this.lookup(sub, tokenId, exp, key, issuedAt).finally(() => this.inflight.delete(flightKey));
      this.inflight.set(flightKey, flight);
      res = await flight;
    } else {
      // A joined lookup that failed is not everyone's answer: this caller tries once on its own.
      res = await flight.catch(() => this.lookup(sub, tokenId, exp, key, issuedAt));
    }
    // Revoked or signed out while the lookup was in flight (logout racing a connect): refused all the same.
    const revokedUntil = tokenId ? this.revoked.get(tokenId) : undefined;
    if (res.kind === 'ok' && revokedUntil !== undefined && revokedUntil > this.now()) return { kind: 'revoked' };
    const outNow = this.signedOut.get(sub);
    if (res.kind === 'ok' && outNow !== undefined && issuedAt <= outNow) return { kind: 'revoked' };
    return res;
  }

  /** Remembers a sign-out everywhere; entries older than a day are dropped (their tokens expired). */
  private noteSignedOut(sub: string, before: number): void {
    this.signedOut.set(sub, Math.max(before, this.signedOut.get(sub) ?? 0));
    if (this.signedOut.size > this.localMax) {
      const oldest = Math.floor(this.now() / 1000) - SIGNED_OUT_TTL_SECONDS;
      for (const [k, v] of this.signedOut) if (v < oldest) this.signedOut.delete(k);
    }
  }

  private storeFailed(err: unknown, op: 'lookup' | 'put'): void {
    this.stats.storeFailures++;
    this.o.onStoreError?.(err, op);
  }

  /** L1 miss: the shared store, then Postgres; fills both caches. */
  private async lookup(
    sub: string,
    tokenId: string | null,
    exp: number,
    key: string,
    issuedAt: number,
  ): Promise<Resolution> {
    let looked: Awaited<ReturnType<MembershipStore['lookup']>> | undefined;
    try {
      looked = await this.o.store.lookup(sub, tokenId);
    } catch (err) {
      this.storeFailed(err, 'lookup');
    }
    if (looked?.revoked) return { kind: 'revoked' };
    if (looked && looked.signedOutAt !== null) {
      this.noteSignedOut(sub, looked.signedOutAt);
      if (issuedAt <= looked.signedOutAt) return { kind: 'revoked' };
    }
    let m = looked?.membership;
    if (m) this.stats.sharedHits++;
    else {
      this.stats.misses++;
      const found = await this.fromDatabase(sub);
      if (!found) return { kind: 'unknown_user' };
      m = found.membership;
      const nowS = Math.floor(this.now() / 1000);
      for (const r of found.revoked) if (r.exp > nowS) this.revoked.set(r.id, r.exp * 1000);
      if (found.signedOutAt !== null) this.noteSignedOut(sub, found.signedOutAt);
      if (tokenId && found.revoked.some((r) => r.id === tokenId && r.exp > nowS)) return { kind: 'revoked' };
      if (found.signedOutAt !== null && issuedAt <= found.signedOutAt) return { kind: 'revoked' };
      const ttl = Math.min(this.maxTtlSeconds, exp - nowS);
      // The store is refilled with the revocations too (a flushed Redis gets them back).
      if (ttl > 0 && looked)
        await this.o.store
          .put(m, ttl, { signedOutAt: found.signedOutAt, revoked: found.revoked })
          .catch((err: unknown) => this.storeFailed(err, 'put'));
    }
    const t = this.now();
    if (this.local.size >= this.localMax) this.local.delete(this.local.keys().next().value!);
    this.local.set(key, { m, until: Math.min(t + this.localTtlMs, exp * 1000) });
    return { kind: 'ok', membership: m };
  }

  private async fromDatabase(sub: string): Promise<DatabaseIdentity | undefined> {
    const rows = await withSystem(
      this.o.db,
      (tx) =>
        tx.$queryRaw<
          {
            user_id: string;
            tenant_id: string | null;
            role: Membership['role'];
            tenant_status: Membership['tenantStatus'];
            signed_out_at: number | null;
            revoked_tokens: { id: string; exp: number | string }[];
          }[]
        >`
          SELECT user_id, tenant_id, role::text AS role, tenant_status::text AS tenant_status,
                 floor(extract(epoch FROM tokens_valid_after))::float8 AS signed_out_at, revoked_tokens
            FROM app_resolve_identity(${sub})`,
    );
    const row = rows[0];
    if (!row) return undefined;
    return {
      membership: {
        userId: row.user_id,
        sub,
        tenantId: row.tenant_id,
        role: row.role,
        tenantStatus: row.tenant_status,
      },
      signedOutAt: row.signed_out_at === null ? null : Number(row.signed_out_at),
      revoked: row.revoked_tokens.map((r) => ({ id: r.id, exp: Number(r.exp) })),
    };
  }

  stop(): void {
    this.unsubscribe?.();
    this.local.clear();
  }
}
