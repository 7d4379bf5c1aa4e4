import {
  BrokenCircuitError,
  CircuitState,
  ConsecutiveBreaker,
  circuitBreaker,
  handleAll,
  type CircuitBreakerPolicy,
} from 'cockatiel';
import { withTenant, type Db, type StreamSinkModel } from '@lt/db';
import { rawQuery } from '../data/raw';
import { createDeliveredRecorder, type DeliveredRecorder } from './deliveredRecorder';
import type { Logger } from '@lt/logger';
import { decryptSecret } from '../crypto/secrets';
import { createAgents, postWebhook, type AttemptOutcome } from './httpPost';
import type { DeliveryPolicy } from './schedule';
import { webhookHeaders } from './signature';
import type { UrlPolicy } from './urlPolicy';
import { recordBatchOutcome, type LeasedBatch } from './recordBatchOutcome';
import { createIdler } from '../util/idler';

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
  /** Records successes (shared by the dispatchers of a pipeline). Default: its own. */
  recorder?: DeliveredRecorder;
}

export interface BatchDispatcher {
  start(): void;
  wake(): void;
  breakerState(sinkId: string): 'closed' | 'open' | 'half-open' | 'isolated' | undefined;
  stop(): Promise<void>;
}

/** One leased batch (app_delivery_batches_lease_full): the events already joined in seq order. */
interface LeaseRow {
  tenant_id: string;
  sink_id: string;
  batch_id: string;
  attempts: number;
  /** '{id,id,…}' in seq order. */
  delivery_ids: string;
  /** The JSON array of the events' envelopes, in seq order. */
  events: string;
  newest: Date;
  url: string;
  secret_enc: string;
  previous_secret_enc: string | null;
  previous_secret_expires_at: Date | null;
  failing_since: Date | null;
}

/** The request body of a leased batch (the same text as batchBody of its rows). */
function leasedBody(r: LeaseRow): string {
  return `{"type":"batch","timestamp":${JSON.stringify(r.newest.toISOString())},"data":{"events":${r.events}}}`;
}

/** The batch as recordBatchOutcome reads it (a failure's path): one row per delivery. */
function asLeasedBatch(r: LeaseRow): LeasedBatch {
  const ids = r.delivery_ids.slice(1, -1).split(',');
  const events = JSON.parse(r.events) as unknown[];
  return {
    tenantId: r.tenant_id,
    sinkId: r.sink_id,
    batchId: r.batch_id,
    attempts: r.attempts,
    rows: ids.map((deliveryId, i) => ({
      deliveryId,
      eventId: (events[i] as { id?: string } | undefined)?.id ?? '',
      payload: JSON.stringify(events[i]),
      createdAt: r.newest,
    })),
  };
}

/** The request body of a batch: the events' envelopes as stored (jsonb text), in seq order. */
export function batchBody(batch: Pick<LeasedBatch, 'rows'>): string {
  // The newest event's parking time: the same on every retry, so a retried body is identical.
  const at = batch.rows.reduce((m, r) => (r.createdAt > m ? r.createdAt : m), batch.rows[0]!.createdAt);
  return `{"type":"batch","timestamp":${JSON.stringify(at.toISOString())},"data":{"events":[${batch.rows
    .map((r) => r.payload)
    .join(',')}]}}`;
}

/**
 * Delivers batched sinks. Each round leases at most one batch per sink (SQL
 * app_delivery_batches_lease, oldest head first), so one sink's backlog or slowness never takes
 * another sink's turn, and a sink has one batch in flight: its events go out in seq order within
 * and across batches, retries included. The batch's rows are recorded together in one transaction.
 * A circuit breaker per sink, as for single deliveries: while open, batches are rescheduled
 * without an HTTP call.
 */
export function createBatchDispatcher(o: BatchDispatcherOptions): BatchDispatcher {
  const concurrency = o.concurrency ?? 32;
  const pollMs = o.pollIntervalMs ?? 500;
  const leaseMs = o.policy.attemptTimeoutMs * 2 + 5_000;
  const scope = o.tenantIds ? [...o.tenantIds] : null;
  const breakers = new Map<string, CircuitBreakerPolicy>();
  const inflight = new Set<Promise<void>>();
  const agents = createAgents();
  const recorder = o.recorder ?? createDeliveredRecorder(o.db);
  const idler = createIdler({ keepWake: true });
  let stopping = false;
  let loop: Promise<void> | undefined;

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

  async function lease(sinks: number): Promise<LeaseRow[]> {
    return rawQuery<LeaseRow>(o.db, 'SELECT * FROM app_delivery_batches_lease_full($1, $2, $3::uuid[])', [
      sinks,
      leaseMs,
      scope,
    ]);
  }

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

  async function reschedule(batch: LeasedBatch, inMs: number, lastError: string): Promise<void> {
    await withTenant(o.db, batch.tenantId, (tx) =>
      tx.delivery.updateMany({
        where: { id: { in: batch.rows.map((r) => r.deliveryId) }, status: 'PENDING' },
        data: { nextAttemptAt: new Date(Date.now() + inMs), lastError },
      }),
    );
  }

  async function attempt(r: LeaseRow): Promise<void> {
    const now = Date.now();
    const secrets = [decryptSecret(r.secret_enc, o.secretKey)];
    if (r.previous_secret_enc && r.previous_secret_expires_at && r.previous_secret_expires_at.getTime() > now)
      secrets.push(decryptSecret(r.previous_secret_enc, o.secretKey));
    const body = leasedBody(r);
    let outcome: AttemptOutcome;
    try {
      outcome = await breakerOf(r.sink_id).execute(async () => {
        const headers = webhookHeaders(secrets, r.batch_id, body, Math.floor(Date.now() / 1000));
        const res = await postWebhook(r.url, { ...headers }, body, {
          timeoutMs: o.policy.attemptTimeoutMs,
          policy: o.urlPolicy,
          maxBodyBytes: o.policy.maxResponseBodyBytes,
          agents,
        });
        if (res.kind === 'failed' || res.kind === 'refused') throw new AttemptFailed(res);
        return res;
      });
    } catch (err) {
      if (err instanceof AttemptFailed) outcome = err.outcome;
      else if (err instanceof BrokenCircuitError) {
        await reschedule(asLeasedBatch(r), o.policy.breakerHalfOpenAfterMs, 'circuit open');
        return;
      } else throw err;
    }
    if (outcome.kind === 'delivered') {
      const { status, body: answer } = outcome;
      await recorder.record(
        r.delivery_ids
          .slice(1, -1)
          .split(',')
          .map((deliveryId) => ({ deliveryId, tenantId: r.tenant_id, status, body: answer })),
      );
      return;
    }
    const sink = {
      id: r.sink_id,
      tenantId: r.tenant_id,
      url: r.url,
      status: 'ACTIVE',
      failingSince: r.failing_since,
    } as unknown as StreamSinkModel;
    const batch = asLeasedBatch(r);
    const result = await recordBatchOutcome(o.db, { batch, sink, outcome, policy: o.policy });
    if (result.dead)
      o.log.warn('batch dead-lettered', {
        batchId: batch.batchId,
        sinkId: sink.id,
        tenantId: sink.tenantId,
        deliveries: result.dead,
      });
    if (result.disabled)
      o.log.warn('sink disabled', { sinkId: sink.id, tenantId: sink.tenantId, reason: result.disabled });
  }

  async function run(): Promise<void> {
    while (!stopping) {
      idler.clear();
      const free = concurrency - inflight.size;
      let leased: LeaseRow[] = [];
      if (free > 0) {
        try {
          leased = await lease(free);
        } catch (err) {
          o.log.warn('batch lease failed', { err: String(err) });
        }
      }
      for (const b of leased) {
        const p: Promise<void> = attempt(b)
          .catch((err: unknown) => o.log.error('batch attempt crashed', { batchId: b.batch_id, err: String(err) }))
          .finally(() => {
            inflight.delete(p);
            idler.wake();
          });
        inflight.add(p);
      }
      if (inflight.size >= concurrency) await idler.idle(pollMs);
      else if (leased.length === 0) await idler.idle(await nextDueInMs().catch(() => pollMs));
    }
    await Promise.allSettled([...inflight]);
  }

  return {
    start() {
      loop ??= run();
    },
    wake: () => idler.wake(),
    breakerState(sinkId) {
      const b = breakers.get(sinkId);
      if (!b) return undefined;
      switch (b.state) {
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

class AttemptFailed extends Error {
  constructor(readonly outcome: Extract<AttemptOutcome, { kind: 'failed' | 'refused' }>) {
    super(outcome.error);
  }
}
