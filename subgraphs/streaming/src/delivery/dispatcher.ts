import {
  BrokenCircuitError,
  CircuitState,
  ConsecutiveBreaker,
  circuitBreaker,
  handleAll,
  type CircuitBreakerPolicy,
} from 'cockatiel';
import { withTenant, type Db, type DeliveryModel, type StreamSinkModel } from '@lt/db';
import type { DeadLetterV1 } from '@lt/events';
import { rawQuery } from '../data/raw';
import { createDeliveredRecorder, type DeliveredRecorder } from './deliveredRecorder';
import type { Logger } from '@lt/logger';
import { decryptSecret } from '../crypto/secrets';
import { createAgents, postWebhook, type AttemptOutcome } from './httpPost';
import { afterFailure, type DeliveryPolicy } from './schedule';
import { webhookHeaders } from './signature';
import type { UrlPolicy } from './urlPolicy';
import { recordOutcome } from './recordOutcome';
import { createIdler } from '../util/idler';

/**
 * The `data` of a `webhook.dead-lettered.v1` event: a delivery that exhausted its retries. It is
 * written to the outbox in the transaction that marks the delivery DEAD (recordOutcome), so the
 * relay publishes it to the dead-letter topic exactly when the DEAD row exists.
 */
export type DeadLetter = Omit<DeadLetterV1, 'batchId'>;

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
  breakerState(sinkId: string): 'closed' | 'open' | 'half-open' | 'isolated';
  stop(): Promise<void>;
}

/** A leased delivery with what its attempt needs (app_deliveries_lease_full). */
interface Leased {
  tenant_id: string;
  sink_id: string;
  delivery_id: string;
  event_id: string;
  attempts: number;
  payload: string;
  url: string;
  secret_enc: string;
  previous_secret_enc: string | null;
  previous_secret_expires_at: Date | null;
  failing_since: Date | null;
}

/** The shapes recordOutcome reads (a failure's rare path), from a leased row. */
function asModels(l: Leased): { d: DeliveryModel; sink: StreamSinkModel } {
  const d = {
    id: l.delivery_id,
    tenantId: l.tenant_id,
    sinkId: l.sink_id,
    eventId: l.event_id,
    attempts: l.attempts,
    payload: JSON.parse(l.payload) as unknown,
    status: 'PENDING',
  } as unknown as DeliveryModel;
  const sink = {
    id: l.sink_id,
    tenantId: l.tenant_id,
    url: l.url,
    status: 'ACTIVE',
    failingSince: l.failing_since,
  } as unknown as StreamSinkModel;
  return { d, sink };
}

/**
 * Delivers PENDING deliveries. Each round leases the due *head* of every (sink, session) chain
 * (SQL app_deliveries_lease), so a session's events reach a sink in order even under retries, while
 * different sessions and sinks proceed in parallel. Each sink has its own circuit breaker: an open
 * breaker reschedules without an HTTP call, so a dead endpoint costs no connections or timeouts.
 */
export function createDispatcher(o: DispatcherOptions): Dispatcher {
  const concurrency = o.concurrency ?? 128;
  const pollMs = o.pollIntervalMs ?? 500;
  // Lease = longest an attempt can take, plus margin; a crashed attempt is retried after it.
  const leaseMs = o.policy.attemptTimeoutMs * 2 + 5_000;
  const scope = o.tenantIds ? [...o.tenantIds] : null;
  const breakers = new Map<string, CircuitBreakerPolicy>();
  const inflight = new Set<Promise<void>>();
  const perSink = new Map<string, { busy: number; waiting: (() => void)[] }>();
  const agents = createAgents();
  const recorder = o.recorder ?? createDeliveredRecorder(o.db);
  let stopping = false;
  let loop: Promise<void> | undefined;
  // A delivery finishing mid-lease wakes the loop for the next lease (kept until it idles).
  const idler = createIdler({ keepWake: true });

  const breakerOf = (sinkId: string): CircuitBreakerPolicy => {
    let b = breakers.get(sinkId);
    if (!b) {
      b = circuitBreaker(handleAll, {
        halfOpenAfter: o.policy.breakerHalfOpenAfterMs,
        breaker: new ConsecutiveBreaker(o.policy.breakerThreshold),
      });
      breakers.set(sinkId, b);
    }
    return b;
  };

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

  async function reschedule(
    tenantId: string,
    deliveryId: string,
    inMs: number,
    lastError: string | null,
  ): Promise<void> {
    await withTenant(o.db, tenantId, (tx) =>
      tx.delivery.update({
        where: { id: deliveryId },
        data: { nextAttemptAt: new Date(Date.now() + inMs), ...(lastError ? { lastError } : {}) },
      }),
    );
  }

  async function attemptWith(l: Leased): Promise<void> {
    const breaker = breakerOf(l.sink_id);
    const now = Date.now();
    const secrets = [decryptSecret(l.secret_enc, o.secretKey)];
    if (l.previous_secret_enc && l.previous_secret_expires_at && l.previous_secret_expires_at.getTime() > now) {
      secrets.push(decryptSecret(l.previous_secret_enc, o.secretKey));
    }
    // Re-serialised from the stored envelope: the same body on every attempt.
    const body = JSON.stringify(JSON.parse(l.payload));
    let outcome: AttemptOutcome;
    try {
      outcome = await breaker.execute(async () => {
        const headers = webhookHeaders(secrets, l.event_id, body, Math.floor(Date.now() / 1000));
        const r = await postWebhook(l.url, { ...headers }, body, {
          timeoutMs: o.policy.attemptTimeoutMs,
          policy: o.urlPolicy,
          maxBodyBytes: o.policy.maxResponseBodyBytes,
          agents,
        });
        // The breaker counts failures by exceptions; 410 is an answer, not an outage.
        if (r.kind === 'failed' || r.kind === 'refused') throw new AttemptFailed(r);
        return r;
      });
    } catch (err) {
      if (err instanceof AttemptFailed) outcome = err.outcome;
      else if (err instanceof BrokenCircuitError) {
        // Not attempted: try again when the breaker lets a probe through; attempts unchanged.
        await reschedule(l.tenant_id, l.delivery_id, o.policy.breakerHalfOpenAfterMs, 'circuit open');
        return;
      } else throw err;
    }
    if (outcome.kind === 'delivered') {
      // The common case: recorded with other successes in one statement.
      await recorder.record([
        { deliveryId: l.delivery_id, tenantId: l.tenant_id, status: outcome.status, body: outcome.body },
      ]);
      return;
    }
    const { d, sink } = asModels(l);
    const result = await recordOutcome(o.db, { delivery: d, sink, outcome, policy: o.policy, afterFailure });
    if (result.deadLetter)
      o.log.warn('delivery dead-lettered', {
        deliveryId: d.id,
        sinkId: sink.id,
        tenantId: sink.tenantId,
        attempts: result.deadLetter.attempts,
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
    for (let i = 0; i < 3 && !stopping; i++) {
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

  async function lease(limit: number): Promise<Leased[]> {
    return rawQuery<Leased>(o.db, 'SELECT * FROM app_deliveries_lease_full($1, $2, $3::uuid[])', [
      limit,
      leaseMs,
      scope,
    ]);
  }

  async function run(): Promise<void> {
    while (!stopping) {
      idler.clear();
      const free = concurrency - inflight.size;
      let leased: Leased[] = [];
      if (free > 0) {
        try {
          leased = await lease(free);
        } catch (err) {
          o.log.warn('delivery lease failed', { err: String(err) });
        }
      }
      for (const l of leased) {
        const p: Promise<void> = attempt(l)
          .catch(async (err: unknown) => {
            o.log.error('delivery attempt crashed', { deliveryId: l.delivery_id, err: String(err) });
            await releaseLease(l);
          })
          .finally(() => {
            inflight.delete(p);
            wake();
          });
        inflight.add(p);
      }
      if (leased.length === 0 || inflight.size >= concurrency) await idler.idle(pollMs);
    }
    await Promise.allSettled([...inflight]);
  }

  function wake(): void {
    idler.wake();
  }

  return {
    start() {
      loop ??= run();
    },
    wake,
    breakerState(sinkId) {
      const s = breakers.get(sinkId)?.state ?? CircuitState.Closed;
      switch (s) {
        case CircuitState.Closed:
          return 'closed';
        case CircuitState.Open:
          return 'open';
        case CircuitState.HalfOpen:
          return 'half-open';
        case CircuitState.Isolated:
          return 'isolated';
      }
    },
    async stop() {
      stopping = true;
      idler.stop();
      await loop;
      agents.http.destroy();
      agents.https.destroy();
    },
  };
}

/** When an attempt that hit a database error is tried again, ms. */
export const RELEASE_RETRY_MS = 1_000;

class AttemptFailed extends Error {
  constructor(readonly outcome: Extract<AttemptOutcome, { kind: 'failed' | 'refused' }>) {
    super(outcome.error);
  }
}
