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
}

export interface CacheStats {
  localHits: number;
  sharedHits: number;
  misses: number;
}

/**
 * `sub` → membership, through an in-process cache (per token, a few seconds), the shared store
 * (Redis) and finally Postgres (`app_resolve_membership`, the one SECURITY DEFINER path).
 * The L1 is keyed by token id so a revoked token is checked against the store on every L1 miss.
 */
export class MembershipResolver {
  readonly stats: CacheStats = { localHits: 0, sharedHits: 0, misses: 0 };
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
    if (!flight) {
      flight = this.lookup(sub, tokenId, exp, key, issuedAt).finally(() => this.inflight.delete(flightKey));
      this.inflight.set(flightKey, flight);
    }
    const res = await flight;
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

  /** L1 miss: the shared store, then Postgres; fills both caches. */
  private async lookup(
    sub: string,
    tokenId: string | null,
    exp: number,
    key: string,
    issuedAt: number,
  ): Promise<Resolution> {
    const looked = await this.o.store.lookup(sub, tokenId);
    if (looked.revoked) return { kind: 'revoked' };
    if (looked.signedOutAt !== null) {
      this.noteSignedOut(sub, looked.signedOutAt);
      if (issuedAt <= looked.signedOutAt) return { kind: 'revoked' };
    }
    let m = looked.membership;
    if (m) this.stats.sharedHits++;
    else {
      this.stats.misses++;
      m = await this.fromDatabase(sub);
      if (!m) return { kind: 'unknown_user' };
      const ttl = Math.min(this.maxTtlSeconds, exp - Math.floor(this.now() / 1000));
      if (ttl > 0) await this.o.store.put(m, ttl);
    }
    const t = this.now();
    if (this.local.size >= this.localMax) this.local.delete(this.local.keys().next().value!);
    this.local.set(key, { m, until: Math.min(t + this.localTtlMs, exp * 1000) });
    return { kind: 'ok', membership: m };
  }

  private async fromDatabase(sub: string): Promise<Membership | undefined> {
    const rows = await withSystem(
      this.o.db,
      (tx) =>
        tx.$queryRaw<
          {
            user_id: string;
            tenant_id: string | null;
            role: Membership['role'];
            tenant_status: Membership['tenantStatus'];
          }[]
        >`
          SELECT user_id, tenant_id, role::text AS role, tenant_status::text AS tenant_status
            FROM app_resolve_membership(${sub})`,
    );
    const row = rows[0];
    if (!row) return undefined;
    return { userId: row.user_id, sub, tenantId: row.tenant_id, role: row.role, tenantStatus: row.tenant_status };
  }

  stop(): void {
    this.unsubscribe?.();
    this.local.clear();
  }
}
