import {
  BrokenCircuitError,
  CircuitState,
  ConsecutiveBreaker,
  circuitBreaker,
  handleAll,
  type CircuitBreakerPolicy,
} from 'cockatiel';
import { withSystem, withTenant, type Db, type DeliveryModel, type StreamSinkModel } from '@lt/db';
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
export interface DeadLetter {
  deliveryId: string;
  sinkId: string;
  tenantId: string;
  attempts: number;
  lastStatusCode: number | null;
  lastError: string | null;
  deadAt: string;
  event: unknown;
}

export interface DispatcherOptions {
  db: Db;
  log: Logger;
  /** AES-256-GCM key of the sinks' secrets. */
  secretKey: Buffer;
  urlPolicy: UrlPolicy;
  policy: DeliveryPolicy;
  /** Attempts in flight at most. Default 32. */
  concurrency?: number;
  /** Poll for due retries (and other replicas' work) this often, ms. Default 500. */
  pollIntervalMs?: number;
  /** Only these tenants (tests). Default: every tenant. */
  tenantIds?: readonly string[];
}

export interface Dispatcher {
  start(): void;
  /** New work is parked: look now instead of at the next poll. */
  wake(): void;
  /** The breaker state of a sink in this process ('closed' when it never failed). */
  breakerState(sinkId: string): 'closed' | 'open' | 'half-open' | 'isolated';
  stop(): Promise<void>;
}

interface Leased {
  tenant_id: string;
  sink_id: string;
  delivery_id: string;
}

/**
 * Delivers PENDING deliveries. Each round leases the due *head* of every (sink, session) chain
 * (SQL app_deliveries_lease), so a session's events reach a sink in order even under retries, while
 * different sessions and sinks proceed in parallel. Each sink has its own circuit breaker: an open
 * breaker reschedules without an HTTP call, so a dead endpoint costs no connections or timeouts.
 */
export function createDispatcher(o: DispatcherOptions): Dispatcher {
  const concurrency = o.concurrency ?? 32;
  const pollMs = o.pollIntervalMs ?? 500;
  // Lease = longest an attempt can take, plus margin; a crashed attempt is retried after it.
  const leaseMs = o.policy.attemptTimeoutMs * 2 + 5_000;
  const scope = o.tenantIds ? [...o.tenantIds] : null;
  const breakers = new Map<string, CircuitBreakerPolicy>();
  const inflight = new Set<Promise<void>>();
  const perSink = new Map<string, { busy: number; waiting: (() => void)[] }>();
  const agents = createAgents();
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
    const loaded = await withTenant(o.db, l.tenant_id, async (tx) => {
      const d = await tx.delivery.findUnique({ where: { id: l.delivery_id } });
      const sink = d && (await tx.streamSink.findUnique({ where: { id: l.sink_id } }));
      return d && sink && d.status === 'PENDING' && sink.status === 'ACTIVE' ? { d, sink } : null;
    });
    if (!loaded) return; // paused/deleted meanwhile: the lease simply runs out
    const { d, sink } = loaded;
    // Bulkhead: wait in memory for one of the sink's slots (the lease keeps other dispatchers off).
    // Waiting holds one of `concurrency` slots, but only until the breaker opens or answers come.
    await acquire(sink.id);
    try {
      await attemptWith(l, d, sink);
    } finally {
      release(sink.id);
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

  async function attemptWith(l: Leased, d: DeliveryModel, sink: StreamSinkModel): Promise<void> {
    const breaker = breakerOf(sink.id);
    const now = Date.now();
    const secrets = [decryptSecret(sink.secretEnc, o.secretKey)];
    if (sink.previousSecretEnc && sink.previousSecretExpiresAt && sink.previousSecretExpiresAt.getTime() > now) {
      secrets.push(decryptSecret(sink.previousSecretEnc, o.secretKey));
    }
    const body = JSON.stringify(d.payload);
    let outcome: AttemptOutcome;
    try {
      outcome = await breaker.execute(async () => {
        const headers = webhookHeaders(secrets, d.eventId, body, Math.floor(Date.now() / 1000));
        const r = await postWebhook(sink.url, { ...headers }, body, {
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
        await reschedule(l.tenant_id, d.id, o.policy.breakerHalfOpenAfterMs, 'circuit open');
        return;
      } else throw err;
    }
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
    return withSystem(
      o.db,
      (tx) =>
        tx.$queryRaw<
          Leased[]
        >`SELECT * FROM app_deliveries_lease(${limit}::integer, ${leaseMs}::integer, ${scope}::uuid[])`,
    );
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
