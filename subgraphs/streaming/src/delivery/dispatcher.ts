import { withTenant, type Db } from '@lt/db';
import { rawQuery } from '../data/raw';
import { createDeliveredRecorder, type DeliveredRecorder } from './deliveredRecorder';
import type { Logger } from '@lt/logger';
import { createAttempter, sinkOf, type BreakerState, type LeasedSink } from './attempt';
import { createLeaseLoop } from './leaseLoop';
import type { DeliveryPolicy } from './schedule';
import type { UrlPolicy } from './urlPolicy';
import { recordOutcome } from './recordOutcome';

export type { DeadLetter } from './recordOutcome';

export interface DispatcherOptions {
  db: Db;
  log: Logger;
  /** AES-256-GCM key of the sinks' secrets. */
  secretKey: Buffer;
  urlPolicy: UrlPolicy;
  policy: DeliveryPolicy;
  /** Attempts in flight at most (each sink still at most `maxInFlightPerSink`). Default 128. */
  concurrency?: number;
  /** Poll for due retries (and other replicas' work) this often, ms. Default 500. */
  pollIntervalMs?: number;
  /** Only these tenants (tests). Default: every tenant. */
  tenantIds?: readonly string[];
  /** Records successes (shared by the dispatchers of a pipeline). Default: its own. */
  recorder?: DeliveredRecorder;
}

export interface Dispatcher {
  start(): void;
  /** New work is parked: look now instead of at the next poll. */
  wake(): void;
  /** The breaker state of a sink in this process ('closed' when it never failed). */
  breakerState(sinkId: string): BreakerState;
  stop(): Promise<void>;
}

/** A leased delivery with what its attempt needs (app_deliveries_lease_full). */
interface Leased extends LeasedSink {
  delivery_id: string;
  event_id: string;
  attempts: number;
  payload: string;
}

/**
 * Delivers PENDING deliveries. Each round leases the due *head* of every (sink, session) chain
 * (SQL app_deliveries_lease), so a session's events reach a sink in order even under retries, while
 * different sessions and sinks proceed in parallel. Each sink has its own circuit breaker: an open
 * breaker reschedules without an HTTP call, so a dead endpoint costs no connections or timeouts.
 */
export function createDispatcher(o: DispatcherOptions): Dispatcher {
  // Lease = longest an attempt can take, plus margin; a crashed attempt is retried after it.
  const leaseMs = o.policy.attemptTimeoutMs * 2 + 5_000;
  const scope = o.tenantIds ? [...o.tenantIds] : null;
  const perSink = new Map<string, { busy: number; waiting: (() => void)[] }>();
  const attempter = createAttempter(o);
  const recorder = o.recorder ?? createDeliveredRecorder(o.db);
  const loop = createLeaseLoop<Leased>({
    concurrency: o.concurrency ?? 128,
    pollMs: o.pollIntervalMs ?? 500,
    log: o.log,
    what: 'delivery',
    lease: (free) =>
      rawQuery<Leased>(o.db, 'SELECT * FROM app_deliveries_lease_full($1, $2, $3::uuid[])', [free, leaseMs, scope]),
    attempt,
    async crashed(l, err) {
      o.log.error('delivery attempt crashed', { deliveryId: l.delivery_id, err: String(err) });
      await releaseLease(l);
    },
  });

  async function attempt(l: Leased): Promise<void> {
    // Bulkhead: wait in memory for one of the sink's slots (the lease keeps other dispatchers off).
    // Waiting holds one of `concurrency` slots, but only until the breaker opens or answers come.
    await acquire(l.sink_id);
    try {
      await attemptWith(l);
    } finally {
      release(l.sink_id);
    }
  }

  function acquire(sinkId: string): Promise<void> {
    const slot = perSink.get(sinkId) ?? { busy: 0, waiting: [] };
    perSink.set(sinkId, slot);
    if (slot.busy < o.policy.maxInFlightPerSink) {
      slot.busy++;
      return Promise.resolve();
    }
    return new Promise((resolve) => slot.waiting.push(resolve));
  }

  function release(sinkId: string): void {
    const slot = perSink.get(sinkId);
    if (!slot) return;
    const next = slot.waiting.shift();
    if (next)
      next(); // the slot passes straight to the next waiter
    else if (--slot.busy === 0) perSink.delete(sinkId);
  }

  async function attemptWith(l: Leased): Promise<void> {
    // Re-serialised from the stored envelope: the same body on every attempt.
    const event = JSON.parse(l.payload) as unknown;
    const outcome = await attempter.post(l, l.event_id, JSON.stringify(event));
    if (outcome.kind === 'circuit-open') {
      // Not attempted: try again when the breaker lets a probe through; attempts unchanged.
      await withTenant(o.db, l.tenant_id, (tx) =>
        tx.delivery.update({
          where: { id: l.delivery_id },
          data: { nextAttemptAt: new Date(Date.now() + o.policy.breakerHalfOpenAfterMs), lastError: 'circuit open' },
        }),
      );
      return;
    }
    if (outcome.kind === 'delivered') {
      // The common case: recorded with other successes in one statement.
      await recorder.record([
        { deliveryId: l.delivery_id, tenantId: l.tenant_id, status: outcome.status, body: outcome.body },
      ]);
      return;
    }
    const sink = sinkOf(l);
    const result = await recordOutcome(o.db, {
      sink,
      rows: [{ deliveryId: l.delivery_id, event }],
      attempts: l.attempts,
      outcome,
      policy: o.policy,
    });
    if (result.dead)
      o.log.warn('delivery dead-lettered', {
        deliveryId: l.delivery_id,
        sinkId: sink.id,
        tenantId: sink.tenantId,
        attempts: l.attempts + 1,
      });
    if (result.disabled)
      o.log.warn('sink disabled', { sinkId: sink.id, tenantId: sink.tenantId, reason: result.disabled });
  }

  /**
   * An attempt that failed on its own (a database error loading or recording it) gives its lease
   * back: the chain's head is due again in {@link RELEASE_RETRY_MS} instead of when the lease
   * would run out (the session's later events wait behind it). A few tries on fresh connections;
   * if the database stays down, the lease runs out as before.
   */
  async function releaseLease(l: Leased): Promise<void> {
    for (let i = 0; i < 3 && !loop.stopping; i++) {
      try {
        await withTenant(o.db, l.tenant_id, (tx) =>
          tx.delivery.updateMany({
            where: { id: l.delivery_id, status: 'PENDING' },
            data: { nextAttemptAt: new Date(Date.now() + RELEASE_RETRY_MS) },
          }),
        );
        return;
      } catch (err) {
        o.log.warn('delivery lease release failed', { deliveryId: l.delivery_id, err: String(err) });
        await new Promise((r) => setTimeout(r, 100 * (i + 1)));
      }
    }
  }

  return {
    start: () => loop.start(),
    wake: () => loop.wake(),
    breakerState: (sinkId) => attempter.breakerState(sinkId) ?? 'closed',
    async stop() {
      await loop.stop();
      attempter.close();
    },
  };
}

/** When an attempt that hit a database error is tried again, ms. */
export const RELEASE_RETRY_MS = 1_000;
