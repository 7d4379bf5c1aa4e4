/**
 * The membership cache, against the in-process store and Redis (one contract): hits after the
 * first lookup, entries never outlive the token, identity events drop them at once.
 */
import { randomUUID } from 'node:crypto';
import { Redis } from 'ioredis';
import { afterAll, describe, expect, it } from 'vitest';
import type { Membership } from '@lt/context';
import type { Db } from '@lt/db';
import {
  createMemoryIdentityBus,
  createRedisIdentityBus,
  identityKeys,
  type IdentityInvalidation,
  type IdentityWatch,
} from '@lt/identity';
import { testEnv, waitFor } from '@lt/testing';
import { MembershipResolver } from './membership';
import { createMemoryMembershipStore, createRedisMembershipStore, type MembershipStore } from './membershipStore';

/** A database stand-in that answers app_resolve_membership from a map and counts queries. */
function fakeDb(rows: Map<string, Membership>) {
  const db = {
    queries: 0,
    $transaction: async (work: (tx: unknown) => Promise<unknown>) =>
      work({
        $queryRaw: async (_s: TemplateStringsArray, sub: string) => {
          db.queries++;
          const m = rows.get(sub);
          return m
            ? [
                {
                  user_id: m.userId,
                  tenant_id: m.tenantId,
                  role: m.role,
                  tenant_status: m.tenantStatus,
                  signed_out_at: null,
                  revoked_tokens: [],
                },
              ]
            : [];
        },
      }),
  };
  return db;
}

const conns: Redis[] = [];
afterAll(() => conns.forEach((c) => c.disconnect()));
const redis = () => {
  const c = new Redis(testEnv().redisUrl, { maxRetriesPerRequest: 1 });
  conns.push(c);
  return c;
};

type Make = () => Promise<{ bus: IdentityInvalidation & IdentityWatch; store: MembershipStore }>;

function contract(name: string, make: Make) {
  describe(`membership cache: ${name}`, () => {
    const member = (): Membership => ({
      userId: randomUUID(),
      sub: randomUUID(),
      tenantId: randomUUID(),
      role: 'MEMBER',
      tenantStatus: 'ACTIVE',
    });
    const exp = () => Math.floor(Date.now() / 1000) + 3600;

    it('asks the database once, then hits; drops on role change, removal and suspension', async () => {
      const { bus, store } = await make();
      const m = member();
      const rows = new Map([[m.sub, m]]);
      const db = fakeDb(rows);
      const r = new MembershipResolver({ db: db as unknown as Db, store, watch: bus });
      expect(await r.resolve(m.sub, 't1', exp())).toEqual({ kind: 'ok', membership: m });
      expect(await r.resolve(m.sub, 't1', exp())).toEqual({ kind: 'ok', membership: m });
      // a second token of the same user: not in L1, but in the shared store
      expect(await r.resolve(m.sub, 't2', exp())).toEqual({ kind: 'ok', membership: m });
      expect(db.queries).toBe(1);
      expect(r.stats).toEqual({ localHits: 1, sharedHits: 1, misses: 1, storeFailures: 0 });

      rows.set(m.sub, { ...m, role: 'TENANT_ADMIN' });
      await bus.publish({
        type: 'user.changed',
        userId: m.userId,
        sub: m.sub,
        tenantId: m.tenantId,
        role: 'TENANT_ADMIN',
      });
      await waitFor(
        async () => {
          const x = await r.resolve(m.sub, 't1', exp());
          return x.kind === 'ok' && x.membership.role === 'TENANT_ADMIN';
        },
        { timeoutMs: 1_000, what: 'role change seen' },
      );

      rows.set(m.sub, { ...m, tenantStatus: 'SUSPENDED' });
      await bus.publish({ type: 'tenant.status', tenantId: m.tenantId!, status: 'SUSPENDED' });
      await waitFor(
        async () => {
          const x = await r.resolve(m.sub, 't1', exp());
          return x.kind === 'ok' && x.membership.tenantStatus === 'SUSPENDED';
        },
        { timeoutMs: 1_000, what: 'suspension seen' },
      );

      rows.delete(m.sub);
      await bus.publish({ type: 'user.changed', userId: m.userId, sub: m.sub, tenantId: m.tenantId, role: null });
      await waitFor(async () => (await r.resolve(m.sub, 't2', exp())).kind === 'unknown_user', {
        timeoutMs: 1_000,
        what: 'removal seen',
      });
      r.stop();
      await store.stop();
    });

    it('a revoked token is refused at once; other tokens of the user still work', async () => {
      const { bus, store } = await make();
      const m = member();
      const r = new MembershipResolver({ db: fakeDb(new Map([[m.sub, m]])) as unknown as Db, store, watch: bus });
      const [a, b] = [randomUUID(), randomUUID()];
      expect((await r.resolve(m.sub, a, exp())).kind).toBe('ok');
      await bus.publish({ type: 'token.revoked', tokenId: a, sub: m.sub, expiresAt: exp() });
      await waitFor(async () => (await r.resolve(m.sub, a, exp())).kind === 'revoked', { timeoutMs: 1_000 });
      expect((await r.resolve(m.sub, b, exp())).kind).toBe('ok');
      // a resolver that never heard the event (fresh L1, no bus) still refuses it via the store
      // (Redis: another replica; memory: the process's one store)
      const fresh = new MembershipResolver({ db: fakeDb(new Map([[m.sub, m]])) as unknown as Db, store });
      expect((await fresh.resolve(m.sub, a, exp())).kind).toBe('revoked');
      fresh.stop();
      r.stop();
      await store.stop();
    });

    it('a burst of connections with one token costs one lookup (reconnect storm)', async () => {
      const { bus, store } = await make();
      const m = member();
      const db = fakeDb(new Map([[m.sub, m]]));
      const r = new MembershipResolver({ db: db as unknown as Db, store, watch: bus });
      const token = randomUUID();
      const all = await Promise.all(Array.from({ length: 200 }, () => r.resolve(m.sub, token, exp())));
      expect(all.every((x) => x.kind === 'ok' && x.membership.userId === m.userId)).toBe(true);
      expect(db.queries).toBe(1);
      // Another user's burst alongside is looked up separately (never answered with this one).
      const other = member();
      const db2 = fakeDb(new Map([[other.sub, other]]));
      const r2 = new MembershipResolver({ db: db2 as unknown as Db, store, watch: bus });
      const [x, y] = await Promise.all([r2.resolve(other.sub, token, exp()), r2.resolve(m.sub, token, exp())]);
      expect(x).toEqual({ kind: 'ok', membership: other });
      expect(y).toEqual({ kind: 'ok', membership: m });
      r.stop();
      r2.stop();
      await store.stop();
    });

    it('sign-out everywhere refuses every token issued until then, on this replica and via the store', async () => {
      const { bus, store } = await make();
      const m = member();
      const db = fakeDb(new Map([[m.sub, m]]));
      const r = new MembershipResolver({ db: db as unknown as Db, store, watch: bus });
      const t0 = Math.floor(Date.now() / 1000);
      const [phone, laptop] = [randomUUID(), randomUUID()];
      expect((await r.resolve(m.sub, phone, exp(), t0 - 60)).kind).toBe('ok');
      expect((await r.resolve(m.sub, laptop, exp(), t0 - 30)).kind).toBe('ok');
      await bus.publish({ type: 'user.signed_out', sub: m.sub, before: t0 });
      // Both devices' tokens (issued before), the L1 entries notwithstanding; a later login works.
      await waitFor(async () => (await r.resolve(m.sub, phone, exp(), t0 - 60)).kind === 'revoked', {
        timeoutMs: 1_000,
      });
      expect((await r.resolve(m.sub, laptop, exp(), t0 - 30)).kind).toBe('revoked');
      expect((await r.resolve(m.sub, randomUUID(), exp(), t0)).kind).toBe('revoked');
      expect((await r.resolve(m.sub, randomUUID(), exp(), t0 + 1)).kind).toBe('ok');
      // A resolver that never heard the event refuses them through the shared store.
      const fresh = new MembershipResolver({ db: fakeDb(new Map([[m.sub, m]])) as unknown as Db, store });
      expect((await fresh.resolve(m.sub, phone, exp(), t0 - 60)).kind).toBe('revoked');
      expect((await fresh.resolve(m.sub, randomUUID(), exp(), t0 + 5)).kind).toBe('ok');
      // Another user is not affected.
      const other = member();
      const r2 = new MembershipResolver({
        db: fakeDb(new Map([[other.sub, other]])) as unknown as Db,
        store,
        watch: bus,
      });
      expect((await r2.resolve(other.sub, randomUUID(), exp(), t0 - 60)).kind).toBe('ok');
      fresh.stop();
      r.stop();
      r2.stop();
      await store.stop();
    });
  });
}

describe('membership cache: memory store clock', () => {
  it('caps the entry at the token expiry', async () => {
    let now = Date.now();
    const store = createMemoryMembershipStore(undefined, () => now);
    const m: Membership = {
      userId: 'u',
      sub: randomUUID(),
      tenantId: null,
      role: 'PLATFORM_ADMIN',
      tenantStatus: null,
    };
    const db = fakeDb(new Map([[m.sub, m]]));
    const r = new MembershipResolver({ db: db as unknown as Db, store, now: () => now, maxTtlSeconds: 300 });
    await r.resolve(m.sub, 'x', Math.floor(now / 1000) + 20);
    now += 19_000;
    expect((await store.lookup(m.sub, null)).membership).toEqual(m);
    now += 2_000;
    expect((await store.lookup(m.sub, null)).membership).toBeUndefined();
  });
});

contract('memory', async () => {
  const bus = createMemoryIdentityBus();
  return { bus, store: createMemoryMembershipStore(bus) };
});

contract('redis', async () => {
  const cmd = redis();
  const bus = await createRedisIdentityBus({ redis: cmd, subscriber: redis() });
  return { bus, store: createRedisMembershipStore(cmd, bus) };
});

describe('membership cache: redis key lifetime', () => {
  it('never keeps an entry longer than the token lives (the memory store: "memory store clock" above)', async () => {
    const cmd = redis();
    const bus = await createRedisIdentityBus({ redis: cmd, subscriber: redis() });
    const store = createRedisMembershipStore(cmd, bus);
    const m: Membership = {
      userId: randomUUID(),
      sub: randomUUID(),
      tenantId: randomUUID(),
      role: 'MEMBER',
      tenantStatus: 'ACTIVE',
    };
    const r = new MembershipResolver({
      db: fakeDb(new Map([[m.sub, m]])) as unknown as Db,
      store,
      watch: bus,
      maxTtlSeconds: 300,
    });
    await r.resolve(m.sub, 'x', Math.floor(Date.now() / 1000) + 20);
    const ttl = await cmd.ttl(identityKeys.membership(m.sub));
    expect(ttl).toBeGreaterThan(0);
    expect(ttl).toBeLessThanOrEqual(20);
    r.stop();
    await store.stop();
  });
});

describe('membership with the shared store failing (Redis down)', () => {
  const m: Membership = {
    userId: randomUUID(),
    sub: randomUUID(),
    tenantId: randomUUID(),
    role: 'MEMBER',
    tenantStatus: 'ACTIVE',
  };
  const exp = () => Math.floor(Date.now() / 1000) + 3600;
  const failing = (): MembershipStore & { calls: number } => {
    const s = {
      calls: 0,
      async lookup(): Promise<never> {
        s.calls++;
        throw new Error('Command timed out');
      },
      async put(): Promise<never> {
        throw new Error('Command timed out');
      },
      async ping() {},
      async stop() {},
    };
    return s;
  };

  it('answers from Postgres, counts the failure and reports it', async () => {
    const db = fakeDb(new Map([[m.sub, m]]));
    const errors: string[] = [];
    const r = new MembershipResolver({
      db: db as unknown as Db,
      store: failing(),
      localTtlMs: 0,
      onStoreError: (_err, op) => errors.push(op),
    });
    const res = await r.resolve(m.sub, 'tok-1', exp());
    expect(res).toEqual({ kind: 'ok', membership: m });
    expect(db.queries).toBe(1);
    expect(r.stats.storeFailures).toBe(1);
    expect(errors).toEqual(['lookup']);
  });

  it("a failed shared lookup is not every caller's answer: joiners look up on their own", async () => {
    let failNext = true;
    const rows = new Map([[m.sub, m]]);
    const db = {
      queries: 0,
      $transaction: async (work: (tx: unknown) => Promise<unknown>) =>
        work({
          $queryRaw: async () => {
            db.queries++;
            if (failNext) {
              failNext = false;
              throw new Error('Connection terminated unexpectedly');
            }
            return fakeDb(rows).$transaction(async (tx) =>
              (tx as { $queryRaw: (s: TemplateStringsArray, sub: string) => Promise<unknown> }).$queryRaw(
                [] as unknown as TemplateStringsArray,
                m.sub,
              ),
            );
          },
        }),
    };
    const r = new MembershipResolver({ db: db as unknown as Db, store: failing(), localTtlMs: 0 });
    const [first, second] = await Promise.allSettled([
      r.resolve(m.sub, 'tok-2', exp()),
      r.resolve(m.sub, 'tok-2', exp()),
    ]);
    expect(first.status).toBe('rejected');
    expect(second).toEqual({ status: 'fulfilled', value: { kind: 'ok', membership: m } });
  });
});
