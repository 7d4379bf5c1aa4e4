/**
 * Maintenance of the weekly partitions of `location_points` (range of recorded_at, UTC weeks from
 * Monday; out-of-range points go to the default partition). The services' role has no DDL rights:
 * each step is one call of a SECURITY DEFINER function owned by the schema owner, in its own short
 * transaction with a lock timeout —
 * - `app_point_partition_create(day)`: the week's partition, built beside the table with RLS enabled
 *   and forced, the tenant policy and no grant, then ATTACHed (SHARE UPDATE EXCLUSIVE on the parent);
 * - `app_point_partition_drop(name, before)`: DROP of a partition whose rows are all expired (its
 *   range ends before the oldest tenant cutoff, or it is empty). It holds ACCESS EXCLUSIVE on the
 *   points table for the catalogue change only; a lock it cannot get within the timeout is retried
 *   on the next pass.
 */
import { withSystem, type Db } from '@lt/db';

const DAY_MS = 86_400_000;
const WEEK_MS = 7 * DAY_MS;

export interface PointPartition {
  name: string;
  rangeStart: Date;
  rangeEnd: Date;
}

const isLockTimeout = (err: unknown): boolean => /lock timeout|55P03/i.test(String((err as Error)?.message ?? err));

/** The weekly partitions (the default one is not listed), oldest first. */
export async function listPointPartitions(db: Db): Promise<PointPartition[]> {
  const rows = await withSystem(db, (tx) =>
    tx.$queryRawUnsafe<{ name: string; range_start: Date; range_end: Date }[]>(
      'SELECT name, range_start, range_end FROM app_point_partitions()',
    ),
  );
  return rows.map((r) => ({ name: r.name, rangeStart: r.range_start, rangeEnd: r.range_end }));
}

/**
 * Creates the weekly partitions covering [from, to] that are missing. Returns how many were created
 * and how many gave up on a lock (retried next pass).
 */
export async function ensurePointPartitions(
  db: Db,
  from: Date,
  to: Date,
  lockTimeoutMs = 2_000,
): Promise<{ created: number; lockTimeouts: number }> {
  const out = { created: 0, lockTimeouts: 0 };
  const weeks = Math.min(600, Math.max(0, Math.ceil((to.getTime() - from.getTime()) / WEEK_MS)) + 1);
  for (let i = 0; i < weeks; i++) {
    const day = new Date(Math.min(from.getTime() + i * WEEK_MS, to.getTime())).toISOString().slice(0, 10);
    try {
      const [r] = await withSystem(db, (tx) =>
        tx.$queryRawUnsafe<{ created: boolean }[]>(
          'SELECT app_point_partition_create($1::date, $2::int) AS created',
          day,
          Math.max(1, Math.floor(lockTimeoutMs)),
        ),
      );
      if (r?.created) out.created++;
    } catch (err) {
      // Two passes racing on the same week: the loser finds it made by the time it looks again.
      if (isLockTimeout(err)) out.lockTimeouts++;
      else if (!/already exists|already a partition/i.test(String((err as Error)?.message ?? err))) throw err;
    }
  }
  return out;
}

export interface PartitionDrops {
  partitions: number;
  /** Rows in the dropped partitions. */
  rows: number;
  lockTimeouts: number;
}

/**
 * Drops each listed partition whose rows are all expired: its range ends at or before `before`
 * (the oldest cutoff of every tenant), or — when it ends at or before `emptyBefore` — it holds no
 * row. One transaction per partition.
 */
export async function dropExpiredPartitions(
  db: Db,
  o: { before: Date; emptyBefore?: Date; lockTimeoutMs?: number; stopped?: () => boolean },
): Promise<PartitionDrops> {
  const out: PartitionDrops = { partitions: 0, rows: 0, lockTimeouts: 0 };
  const limit = Math.max(o.before.getTime(), o.emptyBefore?.getTime() ?? 0);
  for (const p of await listPointPartitions(db)) {
    if (o.stopped?.()) break;
    if (p.rangeEnd.getTime() > limit) continue;
    try {
      const [r] = await withSystem(
        db,
        (tx) =>
          tx.$queryRawUnsafe<{ n: bigint | null }[]>(
            'SELECT app_point_partition_drop($1, $2::timestamptz, $3::int) AS n',
            p.name,
            // An empty partition below emptyBefore is dropped; a full one only below `before`.
            p.rangeEnd.getTime() <= o.before.getTime() ? o.before : new Date(0),
            Math.max(1, Math.floor(o.lockTimeoutMs ?? 2_000)),
          ),
        { timeoutMs: 120_000 },
      );
      if (r && r.n !== null) {
        out.partitions++;
        out.rows += Number(r.n);
      }
    } catch (err) {
      if (!isLockTimeout(err)) throw err;
      out.lockTimeouts++;
    }
  }
  return out;
}

/** Weeks of partitions kept ready ahead of now. */
export const PARTITION_WEEKS_AHEAD = 4;

/** The partitions from last week to `PARTITION_WEEKS_AHEAD` weeks ahead of `now`. */
export const ensureUpcomingPartitions = (db: Db, now: Date, lockTimeoutMs?: number) =>
  ensurePointPartitions(
    db,
    new Date(now.getTime() - WEEK_MS),
    new Date(now.getTime() + PARTITION_WEEKS_AHEAD * WEEK_MS),
    lockTimeoutMs,
  );
