import { withTenant, type Db } from '@lt/db';
import { rawQuery } from '../data/raw';
import type { Logger } from '@lt/logger';
import { createAttempter, sinkOf, type Attempter, type BreakerState, type LeasedSink } from './attempt';
import { createLeaseLoop } from './leaseLoop';
import type { DeliveryPolicy } from './schedule';
import type { UrlPolicy } from './urlPolicy';
import { recordOutcome } from './recordOutcome';

export interface BatchDispatcherOptions {
  db: Db;
  log: Logger;
  secretKey: Buffer;
  urlPolicy: UrlPolicy;
  policy: DeliveryPolicy;
  /** Batches in flight at most (one per sink). Default 32. */
  concurrency?: number;
  /** Longest sleep between looks for due batches, ms. Default 500. */
  pollIntervalMs?: number;
  /** Only these tenants (tests). Default: every tenant. */
  tenantIds?: readonly string[];
  /**
   * The attempter (breakers per sink) shared with the direct path, so a batched sink has one
   * breaker whichever path sends it; closed by its owner. Default: one of its own.
   */
  attempter?: Attempter;
}

export interface BatchDispatcher {
  start(): void;
  wake(): void;
  breakerState(sinkId: string): BreakerState | undefined;
  stop(): Promise<void>;
}

/** One leased batch (app_delivery_batches_take): the events already joined in seq order. */
interface LeaseRow extends LeasedSink {
  batch_id: string;
  attempts: number;
  /** '{id,id,…}' in seq order; the first is the batch's head row. */
  delivery_ids: string;
  /** The JSON array of the events' envelopes, in seq order. */
  events: string;
  newest: Date;
}

/**
 * The request body of a batch: `timestamp` is when the newest of its events was parked, so a retry
 * (same events) sends the same body.
 */
function batchBody(r: LeaseRow): string {
  return `{"type":"batch","timestamp":${JSON.stringify(r.newest.toISOString())},"data":{"events":${r.events}}}`;
}

/**
 * Delivers batched sinks. Each round leases at most one batch per sink (SQL
 * app_delivery_batches_take, oldest head first), so one sink's backlog or slowness never takes
 * another sink's turn, and a sink has one batch in flight: its events go out in seq order within
 * and across batches, retries included. Leasing a batch writes only its head row (batch id, member
 * ids, lease); a success marks its rows DELIVERED in one statement, a failure is recorded for all
 * of them in one transaction. A circuit breaker per sink, as for single deliveries: while open,
 * batches are rescheduled without an HTTP call.
 */
export function createBatchDispatcher(o: BatchDispatcherOptions): BatchDispatcher {
  const pollMs = o.pollIntervalMs ?? 500;
  const leaseMs = o.policy.attemptTimeoutMs * 2 + 5_000;
  const scope = o.tenantIds ? [...o.tenantIds] : null;
  const attempter = o.attempter ?? createAttempter(o);
  const loop = createLeaseLoop<LeaseRow>({
    concurrency: o.concurrency ?? 32,
    pollMs,
    log: o.log,
    what: 'batch',
    lease: (sinks) =>
      rawQuery<LeaseRow>(o.db, 'SELECT * FROM app_delivery_batches_take($1, $2, $3::uuid[])', [sinks, leaseMs, scope]),
    attempt,
    async crashed(r, err) {
      o.log.error('batch attempt crashed', { batchId: r.batch_id, err: String(err) });
    },
    idleMs: nextDueInMs,
  });

  /** Milliseconds until the next batch is due (capped by the poll interval). */
  async function nextDueInMs(): Promise<number> {
    const [row] = await rawQuery<{ due: Date | null }>(
      o.db,
      'SELECT app_delivery_batches_next_due($1::uuid[]) AS due',
      [scope],
    );
    if (!row?.due) return pollMs;
    return Math.max(1, Math.min(pollMs, row.due.getTime() - Date.now() + 1));
  }

  async function attempt(r: LeaseRow): Promise<void> {
    const ids = r.delivery_ids.slice(1, -1).split(',');
    const outcome = await attempter.post(r, r.batch_id, batchBody(r));
    if (outcome.kind === 'circuit-open') {
      // Not attempted: the head (which the lease reads) is due again when a probe may go through.
      await withTenant(o.db, r.tenant_id, (tx) =>
        tx.delivery.updateMany({
          where: { id: ids[0]!, status: 'PENDING' },
          data: { nextAttemptAt: new Date(Date.now() + o.policy.breakerHalfOpenAfterMs), lastError: 'circuit open' },
        }),
      );
      return;
    }
    if (outcome.kind === 'delivered') {
      await rawQuery(o.db, 'SELECT app_delivery_batch_delivered($1::uuid, $2::uuid, $3::uuid[], $4, $5)', [
        r.tenant_id,
        r.batch_id,
        ids,
        outcome.status,
        outcome.body,
      ]);
      return;
    }
    const events = JSON.parse(r.events) as unknown[];
    const sink = sinkOf(r);
    const result = await recordOutcome(o.db, {
      sink,
      rows: ids.map((deliveryId, i) => ({ deliveryId, event: events[i] })),
      attempts: r.attempts,
      batchId: r.batch_id,
      outcome,
      policy: o.policy,
    });
    if (result.dead)
      o.log.warn('batch dead-lettered', {
        batchId: r.batch_id,
        sinkId: sink.id,
        tenantId: sink.tenantId,
        deliveries: result.dead.length,
      });
    if (result.disabled)
      o.log.warn('sink disabled', { sinkId: sink.id, tenantId: sink.tenantId, reason: result.disabled });
  }

  return {
    start: () => loop.start(),
    wake: () => loop.wake(),
    breakerState: (sinkId) => attempter.breakerState(sinkId),
    async stop() {
      await loop.stop();
      if (!o.attempter) attempter.close();
    },
  };
}
