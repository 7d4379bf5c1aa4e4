/**
 * The weekly partitions of the points table as a contract any Postgres must pass: the real server
 * (partitions.int.test.ts) and the embedded PGlite (packages/embedded/test/partitions.embedded.int.test.ts).
 * Points are written through the subgraph's own record path; everything runs as the services' role.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createDb, withSystem, withTenant, type Db } from '@lt/db';
import { createTestTenant } from '@lt/testing';
import { findRetriedPoint, recordPoints } from '../src/data/points';
import { fleetHooks, fleetRules } from '../src/fleet/state';
import { ensurePointPartitions, listPointPartitions } from '../src/fleet/partitions';
import { runRetention } from '../src/fleet/retention';
import { createUser } from './fixtures';

const DAY = 86_400_000;
const H = 3_600_000;
const hooks = fleetHooks(fleetRules());
/** The platform maximum in these passes: every tenant keeps at most 10 days. */
const MAX_DAYS = 10;

export function partitionContract(appUrl: () => string): void {
  let db: Db;
  const now = new Date();
  const ago = (ms: number) => new Date(now.getTime() - ms);

  async function session(tenantId: string, retentionDays: number | null) {
    const user = await createUser(db, tenantId, 'MEMBER');
    await withTenant(db, tenantId, (tx) => tx.tenant.update({ where: { id: tenantId }, data: { retentionDays } }));
    const s = await withTenant(db, tenantId, (tx) =>
      tx.locationSession.create({
        data: { tenantId, userId: user.userId, deviceId: 'truck', startedAt: ago(400 * DAY) },
      }),
    );
    return { id: s.id, scope: { tenantId, userId: user.userId, ownOnly: true } };
  }
  type Session = Awaited<ReturnType<typeof session>>;
  const record = async (s: Session, ages: number[], key?: string) => {
    const inputs = ages.map((a, i) => ({
      latitude: 50 + i * 0.001,
      longitude: 8,
      speed: 3,
      recordedAt: ago(a),
      idempotencyKey: key ? `${key}-${i}` : null,
    }));
    const r = await recordPoints(db, s.scope, s.id, inputs, (i) => `locations[${i}]`, undefined, hooks);
    return r.inserted.map((p) => p.id);
  };
  const pointIds = (tenantId: string, sessionId: string) =>
    withTenant(db, tenantId, async (tx) =>
      (await tx.locationPoint.findMany({ where: { sessionId }, select: { id: true } })).map((p) => p.id).sort(),
    );
  /** The partition a point is stored in (tableoid, readable by the services' role). */
  const partitionOf = (tenantId: string, pointId: string) =>
    withTenant(db, tenantId, async (tx) => {
      const rows = await tx.$queryRawUnsafe<{ p: string }[]>(
        'SELECT tableoid::regclass::text AS p FROM location_points WHERE id = $1::uuid',
        pointId,
      );
      return rows[0]?.p ?? null;
    });
  const weekName = (d: Date) => {
    const monday = new Date(Date.UTC(d.getUTCFullYear(), d.getUTCMonth(), d.getUTCDate() - ((d.getUTCDay() + 6) % 7)));
    return `location_points_p${monday.toISOString().slice(0, 10).replace(/-/g, '')}`;
  };

  beforeAll(async () => {
    db = createDb({ url: appUrl(), max: 2 });
    // The weeks of the points below (the migration and the job only make last week onwards).
    await ensurePointPartitions(db, ago(40 * DAY), now);
  });
  afterAll(async () => {
    await db?.$disconnect();
  });

  describe('weekly point partitions', () => {
    it('every partition has RLS enabled and forced, the tenant policy, and no grant: the services role cannot read one directly', async () => {
      await ensurePointPartitions(db, ago(40 * DAY), new Date(now.getTime() + 35 * DAY));
      const rows = await withSystem(db, (tx) =>
        tx.$queryRawUnsafe<{ name: string; enabled: boolean; forced: boolean; acl: string | null; policies: number }[]>(
          `SELECT c.relname::text AS name, c.relrowsecurity AS enabled, c.relforcerowsecurity AS forced,
                  c.relacl::text AS acl, (SELECT count(*)::int FROM pg_policy p WHERE p.polrelid = c.oid) AS policies
             FROM pg_inherits i JOIN pg_class c ON c.oid = i.inhrelid
            WHERE i.inhparent = 'location_points'::regclass ORDER BY 1`,
        ),
      );
      const names = rows.map((r) => r.name);
      expect(names).toContain('location_points_default');
      for (let d = 0; d <= 35; d += 7) expect(names).toContain(weekName(new Date(now.getTime() + d * DAY)));
      expect(rows.filter((r) => !r.enabled || !r.forced || r.acl !== null || r.policies !== 1)).toEqual([]);
      for (const name of [weekName(now), 'location_points_default'])
        await expect(withSystem(db, (tx) => tx.$queryRawUnsafe(`SELECT 1 FROM "${name}" LIMIT 1`))).rejects.toThrow(
          /permission denied/i,
        );
      await expect(withSystem(db, (tx) => tx.$executeRawUnsafe(`DROP TABLE "${weekName(now)}"`))).rejects.toThrow(
        /must be owner|permission denied/i,
      );
    });

    it('a late point (older than the newest) lands in the partition of its week; idempotency keys hold across partitions', async () => {
      const t = await createTestTenant(db, 'part');
      const s = await session(t.id, null);
      const [newest] = await record(s, [H]);
      const [late] = await record(s, [20 * DAY]);
      expect(await partitionOf(t.id, newest!)).toBe(weekName(ago(H)));
      expect(await partitionOf(t.id, late!)).toBe(weekName(ago(20 * DAY)));
      // A point older than every partition goes to the default one.
      const [ancient] = await record(s, [300 * DAY]);
      expect(await partitionOf(t.id, ancient!)).toBe('location_points_default');

      // The key of a point 3 weeks old, retried with a re-read clock: still that point.
      const [keyed] = await record(s, [21 * DAY], 'k-1');
      expect(await record(s, [2 * H], 'k-1')).toEqual([]);
      const retried = await findRetriedPoint(db, s.scope, s.id, {
        latitude: 1,
        longitude: 1,
        recordedAt: ago(2 * H),
        idempotencyKey: 'k-1-0',
      });
      expect(retried?.id).toBe(keyed);
      // One key twice in a batch, weeks apart: one point.
      const twice = await recordPoints(
        db,
        s.scope,
        s.id,
        [
          { latitude: 1, longitude: 1, recordedAt: ago(3 * H), idempotencyKey: 'k-2' },
          { latitude: 1, longitude: 1, recordedAt: ago(15 * DAY), idempotencyKey: 'k-2' },
        ],
        (i) => `locations[${i}]`,
        undefined,
        hooks,
      );
      expect(twice.inserted).toHaveLength(1);
      expect(twice.duplicates).toBe(1);

      // Another tenant: its own key 'k-1' is its own, and it sees none of these points or keys.
      const other = await createTestTenant(db, 'part');
      const os = await session(other.id, null);
      expect(await record(os, [21 * DAY], 'k-1')).toHaveLength(1);
      const seen = await withTenant(db, other.id, async (tx) => ({
        points: await tx.locationPoint.count({ where: { sessionId: s.id } }),
        keys: await tx.locationPointKey.count({ where: { sessionId: s.id } }),
      }));
      const retriedByOther = await findRetriedPoint(db, { ...s.scope, tenantId: other.id }, s.id, {
        latitude: 1,
        longitude: 1,
        recordedAt: ago(2 * H),
        idempotencyKey: 'k-1-0',
      });
      expect(retriedByOther).toBeNull();
      expect(seen).toEqual({ points: 0, keys: 0 });
      expect(await withTenant(db, t.id, (tx) => tx.locationPointKey.count({ where: { sessionId: s.id } }))).toBe(2);
    });

    it('retention drops whole expired partitions and deletes, in a partition it keeps, only the expired points of a shorter-retention tenant', async () => {
      // A keeps the platform maximum: its 30- and 20-day-old weeks are expired for everyone.
      const a = await createTestTenant(db, 'part');
      const sa = await session(a.id, null);
      const aOld = await record(sa, [30 * DAY, 20 * DAY, 20 * DAY + H]);
      const aKept = await record(sa, [2 * DAY, H]);
      // B keeps 1 day: its 2-day-old point shares a partition that C's keeps alive.
      const b = await createTestTenant(db, 'part');
      const sb = await session(b.id, 1);
      const bGone = await record(sb, [2 * DAY, 2 * DAY - H], 'b-key');
      const bKept = await record(sb, [H]);
      const c = await createTestTenant(db, 'part');
      const sc = await session(c.id, 5);
      const cKept = await record(sc, [2 * DAY, 2 * DAY - H, H]);
      expect(await pointIds(a.id, sa.id)).toEqual([...aOld, ...aKept].sort());
      const summaryBefore = await withTenant(db, a.id, (tx) =>
        tx.sessionSummary.findUnique({ where: { sessionId: sa.id }, select: { pointCount: true, distanceM: true } }),
      );
      const expiredWeeks = [weekName(ago(30 * DAY)), weekName(ago(20 * DAY))];
      expect((await listPointPartitions(db)).map((p) => p.name)).toEqual(expect.arrayContaining(expiredWeeks));

      const run = await runRetention(db, { maxDays: MAX_DAYS, batchSize: 2, now: () => now });
      expect(run.partitionsDropped).toBeGreaterThanOrEqual(2);
      expect(run.droppedRows).toBeGreaterThanOrEqual(aOld.length);
      expect(run.deleted).toBeGreaterThanOrEqual(aOld.length + bGone.length);
      expect(run.lockTimeouts).toBe(0);
      const after = (await listPointPartitions(db)).map((p) => p.name);
      for (const w of expiredWeeks) expect(after).not.toContain(w);
      // The weeks still holding kept points stay, and so does this week and the ones ahead.
      expect(after).toEqual(expect.arrayContaining([weekName(ago(2 * DAY)), weekName(now)]));

      expect(await pointIds(a.id, sa.id)).toEqual([...aKept].sort());
      expect(await pointIds(b.id, sb.id)).toEqual([...bKept].sort());
      expect(await pointIds(c.id, sc.id)).toEqual([...cKept].sort());
      // B's expired keys went with its points; summaries survive expiry.
      expect(await withTenant(db, b.id, (tx) => tx.locationPointKey.count({ where: { sessionId: sb.id } }))).toBe(0);
      expect(
        await withTenant(db, a.id, (tx) =>
          tx.sessionSummary.findUnique({ where: { sessionId: sa.id }, select: { pointCount: true, distanceM: true } }),
        ),
      ).toEqual(summaryBefore);

      const again = await runRetention(db, { maxDays: MAX_DAYS, batchSize: 2, now: () => now });
      expect(again.partitionsDropped).toBe(0);
      expect(await pointIds(c.id, sc.id)).toEqual([...cKept].sort());
    });
  });
}
