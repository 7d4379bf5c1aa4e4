/**
 * Point retention as a contract any Postgres must pass: the real server (retention.int.test.ts)
 * and the embedded PGlite (app/test/embedded/retention.embedded.int.test.ts). Points are
 * written through the subgraph's own record path (summaries and devices maintained), then the
 * retention pass must delete exactly the expired points of each tenant and nothing else.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createDb, withTenant, type Db } from '@lt/db';
import { createTestTenant } from '@lt/testing';
import { recordPoints } from '../src/data/points';
import { fleetHooks, fleetRules } from '../src/fleet/state';
import { runRetention } from '../src/fleet/retention';
import { createUser } from './fixtures';

const DAY = 86_400_000;
const hooks = fleetHooks(fleetRules());

export function retentionContract(appUrl: () => string): void {
  let db: Db;
  const now = new Date();
  const ago = (ms: number) => new Date(now.getTime() - ms);
  /** Point ids by tenant, split into those that must expire and those that must stay. */
  const expected: Record<string, { gone: string[]; kept: string[] }> = {};
  let tenants: string[] = [];

  async function session(tenantId: string, retentionDays: number | null, ages: number[], maxDays: number) {
    const user = await createUser(db, tenantId, 'MEMBER');
    await withTenant(db, tenantId, (tx) => tx.tenant.update({ where: { id: tenantId }, data: { retentionDays } }));
    const s = await withTenant(db, tenantId, (tx) =>
      tx.locationSession.create({
        data: { tenantId, userId: user.userId, deviceId: 'truck', startedAt: ago(10 * DAY) },
      }),
    );
    const scope = { tenantId, userId: user.userId, ownOnly: true };
    const inputs = ages.map((a, i) => ({ latitude: 50 + i * 0.01, longitude: 8, speed: 3, recordedAt: ago(a) }));
    const r = await recordPoints(db, scope, s.id, inputs, (i) => `locations[${i}]`, undefined, hooks);
    const cutoff = Math.min(retentionDays ?? maxDays, maxDays) * DAY;
    const e = (expected[tenantId] ??= { gone: [], kept: [] });
    for (const p of r.inserted) (now.getTime() - p.recordedAt.getTime() > cutoff ? e.gone : e.kept).push(p.id);
    return s.id;
  }

  const snapshot = (tenantId: string) =>
    withTenant(db, tenantId, async (tx) => ({
      summaries: await tx.sessionSummary.findMany({
        orderBy: { sessionId: 'asc' },
        select: { sessionId: true, pointCount: true, distanceM: true, firstAt: true, lastAt: true, state: true },
      }),
      devices: await tx.device.findMany({ orderBy: { id: 'asc' }, select: { id: true, lastPoint: true } }),
      outbox: await tx.outbox.count(),
      sessions: await tx.locationSession.count(),
    }));
  const pointIds = (tenantId: string) =>
    withTenant(db, tenantId, async (tx) =>
      (await tx.locationPoint.findMany({ select: { id: true } })).map((p) => p.id),
    );

  beforeAll(async () => {
    db = createDb({ url: appUrl(), max: 2 });
    const [a, b, c] = [
      await createTestTenant(db, 'ret'),
      await createTestTenant(db, 'ret'),
      await createTestTenant(db, 'ret'),
    ];
    tenants = [a.id, b.id, c.id];
    const h = 3_600_000;
    // A keeps 1 day: 3 of 5 points of one session and both of another expire.
    await session(a.id, 1, [3 * DAY, 2 * DAY, 25 * h, 23 * h, h], 2);
    await session(a.id, 1, [4 * DAY, 3 * DAY], 2);
    // B sets nothing: the platform maximum (2 days here) applies.
    await session(b.id, null, [3 * DAY, 2 * DAY + h, 47 * h, h], 2);
    // C asks for 300 days: capped by the platform maximum.
    await session(c.id, 300, [5 * DAY, h], 2);
  });
  afterAll(async () => {
    await db?.$disconnect();
  });

  describe('point retention', () => {
    it('deletes exactly the expired points of each tenant, in bounded batches; summaries, devices, sessions and events stay', async () => {
      const before = await Promise.all(tenants.map(snapshot));
      for (const t of tenants)
        expect((await pointIds(t)).sort()).toEqual([...expected[t]!.gone, ...expected[t]!.kept].sort());
      const run = await runRetention(db, { maxDays: 2, batchSize: 2, now: () => now });
      const gone = tenants.flatMap((t) => expected[t]!.gone);
      expect(run.deleted).toBeGreaterThanOrEqual(gone.length);
      for (const t of tenants) {
        const left = await pointIds(t);
        expect(left.sort()).toEqual([...expected[t]!.kept].sort());
      }
      // Batches of 2: a session with 3 expired points took 2 delete transactions.
      expect(run.batches).toBeGreaterThan(run.sessions);
      expect(await Promise.all(tenants.map(snapshot))).toEqual(before);
    });

    it('a second pass deletes nothing', async () => {
      const run = await runRetention(db, { maxDays: 2, batchSize: 2, now: () => now });
      const mine = await Promise.all(tenants.map(pointIds));
      expect(mine.flat().sort()).toEqual(tenants.flatMap((t) => expected[t]!.kept).sort());
      // Other tests' tenants may share the database: only ours are asserted on.
      expect(run.lockTimeouts).toBe(0);
    });
  });
}
