/**
 * Point retention: points recorded before a tenant's cutoff (now − `retentionDays`, at most the
 * platform's POINT_RETENTION_MAX_DAYS; tenants without a setting get the maximum) are removed.
 * The points table is partitioned by week of recordedAt (fleet/partitions.ts), so a pass
 * 1. creates the partitions of the coming weeks;
 * 2. drops whole partitions whose range ends before the oldest cutoff of every tenant (every row in
 *    them is expired): no row deletes, no dead tuples, the space goes back at once;
 * 3. deletes the remaining expired points in bounded batches, each its own short transaction with a
 *    lock timeout, session by session on the (tenant, session, recordedAt) index — a tenant keeping
 *    less than the longest retention, and the week the cutoff is in — with their idempotency keys;
 * 4. drops past partitions that step 3 left empty, so their dead tuples go too.
 * Session summaries, devices, sessions and outbox events are not touched: they survive expiry.
 * Runs periodically (`startRetentionJob`) with a clean stop.
 */
import { withSystem, withTenant, type Db } from '@lt/db';
import type { Logger } from '@lt/logger';
import { dropExpiredPartitions, ensureUpcomingPartitions } from './partitions';

export interface RetentionOptions {
  /** POINT_RETENTION_MAX_DAYS. */
  maxDays: number;
  /** Points deleted per transaction. Default 5,000. */
  batchSize?: number;
  /** Longest wait for a lock per batch (`lock_timeout`), ms. Default 2,000: a busy session is retried next run. */
  lockTimeoutMs?: number;
  now?: () => Date;
  /** Checked between batches: a stop ends the run early. */
  stopped?: () => boolean;
}

export interface RetentionRun {
  tenants: number;
  sessions: number;
  batches: number;
  deleted: number;
  /** Batches or partition changes that gave up on a lock (retried next run). */
  lockTimeouts: number;
  /** Whole partitions dropped, and the points they held (also counted in `deleted`). */
  partitionsDropped: number;
  droppedRows: number;
  partitionsCreated: number;
}

const DAY_MS = 86_400_000;
/** Sessions looked at per query. */
const SESSION_PAGE = 200;

const isLockTimeout = (err: unknown): boolean => /lock timeout|55P03/i.test(String((err as Error)?.message ?? err));

/** One pass over every tenant: deletes exactly the points older than each tenant's cutoff. */
export async function runRetention(db: Db, o: RetentionOptions): Promise<RetentionRun> {
  const batch = o.batchSize ?? 5_000;
  const lockTimeout = Math.max(1, Math.floor(o.lockTimeoutMs ?? 2_000));
  const now = (o.now ?? (() => new Date()))();
  const stopped = o.stopped ?? (() => false);
  const run: RetentionRun = {
    tenants: 0,
    sessions: 0,
    batches: 0,
    deleted: 0,
    lockTimeouts: 0,
    partitionsDropped: 0,
    droppedRows: 0,
    partitionsCreated: 0,
  };
  const tenants = await withSystem(db, (tx) =>
    tx.$queryRawUnsafe<{ tenant_id: string; retention_days: number | null }[]>(
      'SELECT tenant_id::text AS tenant_id, retention_days FROM app_retention_tenants()',
    ),
  );
  const ahead = await ensureUpcomingPartitions(db, now, lockTimeout);
  run.partitionsCreated += ahead.created;
  run.lockTimeouts += ahead.lockTimeouts;
  // The oldest cutoff: no tenant keeps a point older than this.
  const longest = Math.max(0, ...tenants.map((t) => Math.min(t.retention_days ?? o.maxDays, o.maxDays)));
  const oldest = new Date(now.getTime() - (tenants.length ? longest : o.maxDays) * DAY_MS);
  const drops = async (emptyBefore?: Date) => {
    const d = await dropExpiredPartitions(db, { before: oldest, emptyBefore, lockTimeoutMs: lockTimeout, stopped });
    run.partitionsDropped += d.partitions;
    run.droppedRows += d.rows;
    run.deleted += d.rows;
    run.lockTimeouts += d.lockTimeouts;
  };
  await drops();
  for (const t of tenants) {
    if (stopped()) break;
    run.tenants++;
    const days = Math.min(t.retention_days ?? o.maxDays, o.maxDays);
    const cutoff = new Date(now.getTime() - days * DAY_MS);
    let afterId: string | null = null;
    for (;;) {
      // Sessions that may still hold points before the cutoff: their first point is older and not
      // every point up to the cutoff is known to be gone (`expired_before`).
      const sessions: { session_id: string }[] = await withTenant(db, t.tenant_id, (tx) =>
        tx.$queryRawUnsafe<{ session_id: string }[]>(
          `SELECT session_id::text AS session_id FROM session_summaries
            WHERE tenant_id = app_current_tenant() AND first_at < $1::timestamptz
              AND (expired_before IS NULL OR (expired_before < $1::timestamptz AND expired_before <= last_at))
              AND ($2::uuid IS NULL OR session_id > $2::uuid)
            ORDER BY session_id LIMIT ${SESSION_PAGE}`,
          cutoff,
          afterId,
        ),
      );
      for (const { session_id: sessionId } of sessions) {
        if (stopped()) return run;
        run.sessions++;
        let done = false;
        while (!done && !stopped()) {
          try {
            const deleted = await withTenant(db, t.tenant_id, async (tx) => {
              await tx.$executeRawUnsafe(`SET LOCAL lock_timeout = ${lockTimeout}`);
              const n = await tx.$executeRawUnsafe(
                `DELETE FROM location_points WHERE (id, recorded_at) IN (
                   SELECT id, recorded_at FROM location_points
                    WHERE tenant_id = app_current_tenant() AND session_id = $1::uuid AND recorded_at < $2::timestamptz
                    LIMIT ${batch})`,
                sessionId,
                cutoff,
              );
              const keys = await tx.$executeRawUnsafe(
                `DELETE FROM location_point_keys WHERE (tenant_id, session_id, idempotency_key) IN (
                   SELECT tenant_id, session_id, idempotency_key FROM location_point_keys
                    WHERE tenant_id = app_current_tenant() AND session_id = $1::uuid AND recorded_at < $2::timestamptz
                    LIMIT ${batch})`,
                sessionId,
                cutoff,
              );
              if (n < batch && keys < batch)
                await tx.$executeRawUnsafe(
                  `UPDATE session_summaries SET expired_before = $2::timestamptz, updated_at = now()
                    WHERE session_id = $1::uuid AND (expired_before IS NULL OR expired_before < $2::timestamptz)`,
                  sessionId,
                  cutoff,
                );
              return { n, keys };
            });
            run.batches++;
            run.deleted += deleted.n;
            done = deleted.n < batch && deleted.keys < batch;
          } catch (err) {
            if (!isLockTimeout(err)) throw err;
            run.lockTimeouts++;
            done = true;
          }
        }
      }
      if (sessions.length < SESSION_PAGE) break;
      afterId = sessions.at(-1)!.session_id;
    }
  }
  // Past weeks the batches emptied (every tenant with rows there keeps less than the longest).
  if (!stopped()) await drops(new Date(now.getTime() - DAY_MS));
  return run;
}

export interface RetentionJob {
  /** Runs one pass now (waits for a running one first). */
  runNow(): Promise<RetentionRun>;
  /** Ends the current pass between batches and stops the timer. */
  stop(): Promise<void>;
}

/** Runs `runRetention` every `intervalMs` (default 10 min; the first pass after `intervalMs`, or at once with `runAtStart`). */
export function startRetentionJob(
  db: Db,
  o: RetentionOptions & { intervalMs?: number; runAtStart?: boolean; log: Logger },
): RetentionJob {
  const interval = o.intervalMs ?? 600_000;
  let stopping = false;
  let current: Promise<RetentionRun> | null = null;
  let timer: NodeJS.Timeout | null = null;
  const pass = (): Promise<RetentionRun> => {
    const started = Date.now();
    const p = runRetention(db, { ...o, stopped: () => stopping })
      .then((r) => {
        if (r.deleted > 0 || r.lockTimeouts > 0 || r.partitionsCreated > 0)
          o.log.info('retention pass', { ...r, ms: Date.now() - started });
        return r;
      })
      .finally(() => {
        current = null;
      });
    current = p;
    return p;
  };
  const schedule = (delay: number): void => {
    if (stopping) return;
    timer = setTimeout(() => {
      void (current ?? pass())
        .catch((err: unknown) => o.log.warn('retention pass failed', { err }))
        .finally(() => schedule(interval));
    }, delay);
    timer.unref();
  };
  schedule(o.runAtStart ? 0 : interval);
  return {
    async runNow() {
      if (current) await current.catch(() => undefined);
      return pass();
    },
    async stop() {
      stopping = true;
      if (timer) clearTimeout(timer);
      await current?.catch(() => undefined);
    },
  };
}
