import { randomUUID } from 'node:crypto';
import { hostname } from 'node:os';
import type pg from 'pg';
import { withTenant, type Db } from '@lt/db';
import type { Logger } from '@lt/logger';
import { rawQuery } from '../data/raw';
import { createAttempter, sinkOf, type Attempted, type Attempter, type BreakerState, type LeasedSink } from './attempt';
import { createCoalescer } from '../util/coalescer';
import { recordOutcome } from './recordOutcome';
import type { DeliveryPolicy } from './schedule';
import type { UrlPolicy } from './urlPolicy';

/** A batched sink as the consumer reads it in its tenant transaction. */
export interface DirectSinkRow extends LeasedSink {
  batch_max_events: number;
  batch_max_wait_ms: number;
  /** The sink has PENDING deliveries rows (the leased path owns it until they are gone). */
  has_pending: boolean;
  /** Another process holds journal rows of the sink under a live lease. */
  foreign_parts: boolean;
}

/** One event handed to the direct path: its id and envelope text as read from the log. */
export interface DirectEvent {
  id: string;
  type: string;
  orderingKey: string;
  json: string;
}

interface Batch {
  /** The batch's webhook-id, fixed when it opened. */
  id: string;
  events: string[];
  /** Journal rows written for it so far (the next part's number). */
  parts: number;
  /** When its newest part was written, ms (the body's `timestamp`; the journal rows' created_at). */
  newest: number;
  openedAt: number;
  bytes: number;
}

type Mode = 'direct' | 'parked' | 'unknown';

interface SinkState {
  id: string;
  tenantId: string;
  row: LeasedSink;
  maxEvents: number;
  maxWaitMs: number;
  mode: Mode;
  /** Taking events; closes when full or when its oldest waited maxWaitMs. */
  open: Batch | undefined;
  /** Closed, not sent yet, in order. */
  queue: Batch[];
  /** The one batch on the wire. */
  inflight: Batch | undefined;
  events: number;
  bytes: number;
  timer: NodeJS.Timeout | undefined;
}

interface PlannedPart {
  sink: SinkState;
  batchId: string;
  part: number;
  /** 1-based inclusive slice of the chunk's events (Postgres array slice). */
  lo: number;
  hi: number;
}

/** The journal rows one consumer transaction writes; applied to memory once it committed. */
export interface DirectPlan {
  parts: PlannedPart[];
  events: DirectEvent[];
  at: number;
}

export interface DirectDispatcherOptions {
  db: Db;
  log: Logger;
  secretKey: Buffer;
  urlPolicy: UrlPolicy;
  policy: DeliveryPolicy;
  /** Journal lease, ms (renewed every third of it). Default attemptTimeoutMs × 2 + 5 s. */
  leaseMs?: number;
  /** How often expired journal rows are looked for, ms. Default 1_000. */
  sweepIntervalMs?: number;
  /** Only these tenants' expired journal rows are swept (tests). Default: every tenant. */
  tenantIds?: readonly string[];
  /** Events a sink may hold in memory before it is parked. Default max(2 × maxEvents, 5_000). */
  maxEventsInMemory?: (maxEvents: number) => number;
  /** Bytes of envelopes a sink may hold in memory before it is parked. Default 32 MiB. */
  maxBytesInMemory?: number;
  /** Journal rows became deliveries rows: the leased path has work. */
  onConverted?: () => void;
  /** Shared with the batch dispatcher (one breaker per sink); closed by its owner. Default: own. */
  attempter?: Attempter;
}

export interface DirectDispatcher {
  /** This process's name on its journal rows. */
  readonly owner: string;
  /** Whether the tenant had batched sinks the last time its events were handled. */
  hasBatched(tenantId: string): boolean;
  noteBatched(tenantId: string): void;
  /** Runs `work` holding the tenant's lock (the consumer's transaction; every switch of a sink). */
  withTenantLock<T>(tenantId: string, work: () => Promise<T>): Promise<T>;
  /**
   * Under the tenant's lock: DIRECT or PARKED for each batched sink of a transaction, from what
   * Postgres holds. Returns the DIRECT ones.
   */
  decide(tenantId: string, rows: readonly DirectSinkRow[]): string[];
  /** The journal rows for appending `events` to these DIRECT sinks' open batches (memory untouched). */
  plan(sinkIds: readonly string[], events: DirectEvent[]): DirectPlan;
  /** Writes `plan`'s journal rows in the consumer's transaction. */
  write(c: pg.PoolClient, tenantId: string, topic: string, plan: DirectPlan): Promise<void>;
  /** Under the tenant's lock, after the transaction committed: the events join the batches. */
  apply(plan: DirectPlan): Promise<void>;
  /** The consumer group rebalanced: every sink is checked again before its next direct event. */
  rebalanced(): void;
  breakerState(sinkId: string): BreakerState | undefined;
  start(): void;
  /** Lets the batches on the wire finish, parks what is still in memory, stops the timers. */
  stop(): Promise<void>;
}

/** `{"type":"batch",…}`: the same text take() builds for a leased batch of the same events. */
export function directBatchBody(events: readonly string[], newest: number): string {
  return `{"type":"batch","timestamp":${JSON.stringify(new Date(newest).toISOString())},"data":{"events":[${events.join(',')}]}}`;
}

/**
 * Batched sinks dispatched straight from the consumer. A sink is DIRECT while Postgres holds no
 * PENDING deliveries row for it: the consumer writes one journal row per (sink, batch, chunk) in its
 * tenant transaction and hands the events here; a batch closes at maxEvents or once its oldest
 * waited maxWaitMs, and a sink's closed batches go out one at a time in order through the shared
 * attempter (breaker, signature, pinned address, attempt timeout). A success deletes the batch's
 * journal rows (many batches per statement). A failure, or a sink holding more than its memory
 * bound, converts the sink's journal rows into PENDING deliveries rows with their reserved seq (a
 * batch that went out keeps its id and members, so its retry has the same webhook-id and body),
 * records the outcome as the leased path does, and parks the sink: the leased path owns it until
 * it has no PENDING row left. Every switch happens under the tenant's lock, which the consumer
 * holds for its whole transaction, so nothing parked is ever overtaken. Journal rows carry a lease
 * renewed while held; rows whose owner died are converted by the sweeper here (any process).
 */
export function createDirectDispatcher(o: DirectDispatcherOptions): DirectDispatcher {
  const owner = `${hostname()}:${process.pid}:${randomUUID()}`;
  const leaseMs = o.leaseMs ?? o.policy.attemptTimeoutMs * 2 + 5_000;
  const sweepMs = o.sweepIntervalMs ?? 1_000;
  const boundOf = o.maxEventsInMemory ?? ((max: number) => Math.max(2 * max, 5_000));
  const maxBytes = o.maxBytesInMemory ?? 32 * 1024 * 1024;
  const scope = o.tenantIds ? [...o.tenantIds] : null;
  const attempter = o.attempter ?? createAttempter(o);
  const sinks = new Map<string, SinkState>();
  const batchedTenants = new Set<string>();
  const locks = new Map<string, Promise<unknown>>();
  const sending = new Set<Promise<void>>();
  let stopping = false;
  let renewTimer: NodeJS.Timeout | undefined;
  let sweepTimer: NodeJS.Timeout | undefined;
  let renewing: Promise<void> | undefined;
  let sweeping: Promise<void> | undefined;

  function withTenantLock<T>(tenantId: string, work: () => Promise<T>): Promise<T> {
    const prev = locks.get(tenantId) ?? Promise.resolve();
    const run = prev.then(work, work);
    const tail = run.catch(() => undefined);
    locks.set(tenantId, tail);
    void tail.then(() => {
      if (locks.get(tenantId) === tail) locks.delete(tenantId);
    });
    return run;
  }

  // ── successes: journal rows deleted together ──
  const done = createCoalescer<{ tenantId: string; sinkId: string; batchId: string; n: number }>(async (items) => {
    try {
      await rawQuery(o.db, 'SELECT app_webhook_parts_delivered($1::uuid[], $2::uuid[], $3::uuid[], $4::integer[])', [
        items.map((i) => i.tenantId),
        items.map((i) => i.sinkId),
        items.map((i) => i.batchId),
        items.map((i) => i.n),
      ]);
    } catch (err) {
      // Not renewed any more: the sweeper converts them once their lease ran out and they go
      // out again under the same webhook-ids (at least once).
      o.log.warn('direct batches delivered but not recorded', { batches: items.length, err: String(err) });
    }
  });
  function recordDone(s: SinkState, b: Batch): void {
    void done.add([{ tenantId: s.tenantId, sinkId: s.id, batchId: b.id, n: b.events.length }]);
  }

  function stateOf(tenantId: string, r: DirectSinkRow): SinkState {
    let s = sinks.get(r.sink_id);
    if (!s) {
      s = {
        id: r.sink_id,
        tenantId,
        row: r,
        maxEvents: r.batch_max_events,
        maxWaitMs: r.batch_max_wait_ms,
        mode: 'unknown',
        open: undefined,
        queue: [],
        inflight: undefined,
        events: 0,
        bytes: 0,
        timer: undefined,
      };
      sinks.set(r.sink_id, s);
    }
    s.row = r;
    s.maxEvents = r.batch_max_events;
    s.maxWaitMs = r.batch_max_wait_ms;
    return s;
  }

  function close(s: SinkState): void {
    if (s.timer) clearTimeout(s.timer);
    s.timer = undefined;
    if (!s.open) return;
    s.queue.push(s.open);
    s.open = undefined;
    pump(s);
  }

  function pump(s: SinkState): void {
    if (stopping || s.inflight || s.queue.length === 0) return;
    const b = s.queue.shift()!;
    s.inflight = b;
    const p = send(s, b).catch((err: unknown) => {
      o.log.error('direct batch attempt crashed', { batchId: b.id, sinkId: s.id, err: String(err) });
    });
    sending.add(p);
    void p.finally(() => sending.delete(p));
  }

  async function send(s: SinkState, b: Batch): Promise<void> {
    let outcome: Attempted;
    try {
      outcome = await attempter.post(s.row, b.id, directBatchBody(b.events, b.newest));
    } catch (err) {
      outcome = { kind: 'failed', status: null, error: String(err), body: null };
    }
    if (outcome.kind === 'delivered') {
      if (s.inflight === b) {
        s.inflight = undefined;
        s.events -= b.events.length;
        s.bytes -= b.bytes;
      }
      recordDone(s, b);
      pump(s);
      return;
    }
    await withTenantLock(s.tenantId, () => failed(s, b, outcome));
  }

  /** Forgets every batch of `s` but the one on the wire and parks the sink; returns them. */
  function takeAll(s: SinkState): Batch[] {
    if (s.timer) clearTimeout(s.timer);
    s.timer = undefined;
    const rest = [...s.queue, ...(s.open ? [s.open] : [])];
    s.queue = [];
    s.open = undefined;
    for (const b of rest) {
      s.events -= b.events.length;
      s.bytes -= b.bytes;
    }
    s.mode = 'parked';
    return rest;
  }

  async function convert(s: SinkState, batches: Batch[], keep: string[]) {
    // A kept (failed) batch is held for the lease until its outcome sets its retry time. Up to 3
    // tries (a transient error would otherwise leave the rows to the sweeper, and the sink's
    // leased path waiting, for a whole lease).
    for (let attempt = 1; ; attempt++) {
      try {
        return await rawQuery<{ batch_id: string; delivery_ids: string; events: string; newest: Date }>(
          o.db,
          'SELECT * FROM app_webhook_parts_convert($1::uuid, $2::uuid, $3::uuid[], $4::uuid[], $5)',
          [s.tenantId, s.id, batches.map((b) => b.id), keep, leaseMs],
        );
      } catch (err) {
        if (attempt >= 3) throw err;
        o.log.warn('direct batch conversion failed, trying again', { sinkId: s.id, attempt, err: String(err) });
        await new Promise((resolve) => setTimeout(resolve, 200 * attempt));
      }
    }
  }

  /** A direct batch failed (under the tenant's lock): the sink's journal becomes deliveries rows. */
  async function failed(s: SinkState, b: Batch, outcome: Exclude<Attempted, { kind: 'delivered' }>): Promise<void> {
    const rest = takeAll(s);
    if (s.inflight === b) {
      s.inflight = undefined;
      s.events -= b.events.length;
      s.bytes -= b.bytes;
    }
    let kept;
    try {
      [kept] = await convert(s, [b, ...rest], [b.id]);
    } catch (err) {
      // Forgotten here and not renewed: the sweeper converts them once their lease ran out.
      o.log.error('direct batch conversion failed', { batchId: b.id, sinkId: s.id, err: String(err) });
      return;
    }
    o.onConverted?.();
    // Swept meanwhile (this process stalled past the lease): the leased path already owns it.
    if (!kept) return;
    const ids = kept.delivery_ids.slice(1, -1).split(',');
    if (outcome.kind === 'circuit-open') {
      await withTenant(o.db, s.tenantId, (tx) =>
        tx.delivery.updateMany({
          where: { id: ids[0]!, status: 'PENDING' },
          data: { nextAttemptAt: new Date(Date.now() + o.policy.breakerHalfOpenAfterMs), lastError: 'circuit open' },
        }),
      );
      return;
    }
    const events = JSON.parse(kept.events) as unknown[];
    const result = await recordOutcome(o.db, {
      sink: sinkOf(s.row),
      rows: ids.map((deliveryId, i) => ({ deliveryId, event: events[i] })),
      attempts: 0,
      batchId: b.id,
      outcome,
      policy: o.policy,
    });
    if (result.dead) o.log.warn('batch dead-lettered', { batchId: b.id, sinkId: s.id, deliveries: result.dead.length });
    if (result.disabled) o.log.warn('sink disabled', { sinkId: s.id, tenantId: s.tenantId, reason: result.disabled });
  }

  /** Over its memory bound (under the tenant's lock): what is not on the wire is parked. */
  async function overflow(s: SinkState): Promise<void> {
    const rest = takeAll(s);
    if (rest.length === 0) return;
    try {
      await convert(s, rest, []);
      o.onConverted?.();
    } catch (err) {
      o.log.error('direct batch conversion failed', { sinkId: s.id, err: String(err) });
    }
  }

  async function renew(): Promise<void> {
    const started = Date.now();
    const held = new Map<string, SinkState>();
    for (const s of sinks.values())
      for (const b of [s.inflight, ...s.queue, s.open]) if (b && b.openedAt < started) held.set(b.id, s);
    if (held.size === 0) return;
    let renewed: Set<string>;
    try {
      const rows = await rawQuery<{ batch_id: string }>(
        o.db,
        'SELECT batch_id::text FROM app_webhook_parts_renew($1, $2::uuid[], $3)',
        [owner, [...held.keys()], leaseMs],
      );
      renewed = new Set(rows.map((r) => r.batch_id));
    } catch (err) {
      o.log.warn('journal lease renewal failed', { err: String(err) });
      return;
    }
    // Only a batch still held now counts: one delivered (its rows deleted) or converted meanwhile
    // is simply gone from the journal.
    const stillHeld = (s: SinkState, id: string) => [s.inflight, ...s.queue, s.open].some((b) => b?.id === id);
    const lost = new Set<SinkState>();
    for (const [id, s] of held) if (!renewed.has(id) && stillHeld(s, id)) lost.add(s);
    for (const s of lost) {
      // Swept (this process stalled past the lease: the leased path owns those events now), or the
      // sink was paused, disabled or deleted: what is in memory is dropped, not sent.
      o.log.warn('direct batches no longer renewable', { sinkId: s.id });
      await withTenantLock(s.tenantId, async () => {
        takeAll(s);
      });
    }
  }

  async function sweep(): Promise<void> {
    try {
      const [r] = await rawQuery<{ n: number }>(o.db, 'SELECT app_webhook_parts_sweep(100, $1::uuid[]) AS n', [scope]);
      if (r && r.n > 0) {
        o.log.warn('converted direct batches whose owner stopped renewing them', { batches: r.n });
        o.onConverted?.();
      }
    } catch (err) {
      o.log.warn('journal sweep failed', { err: String(err) });
    }
  }

  return {
    owner,
    hasBatched: (tenantId) => batchedTenants.has(tenantId),
    noteBatched: (tenantId) => void batchedTenants.add(tenantId),
    withTenantLock,
    decide(tenantId, rows) {
      const direct: string[] = [];
      for (const r of rows) {
        const s = stateOf(tenantId, r);
        if (stopping || r.has_pending || (r.foreign_parts && s.mode !== 'direct')) {
          // What is in memory still goes out first (the leased path waits for its journal rows).
          if (s.mode !== 'parked') close(s);
          s.mode = 'parked';
        } else {
          s.mode = 'direct';
          direct.push(s.id);
        }
      }
      return direct;
    },
    plan(sinkIds, events) {
      const parts: PlannedPart[] = [];
      for (const id of sinkIds) {
        const s = sinks.get(id)!;
        let batchId = s.open?.id;
        let count = s.open?.events.length ?? 0;
        let part = s.open?.parts ?? 0;
        let at = 0;
        while (at < events.length) {
          if (!batchId || count >= s.maxEvents) {
            batchId = randomUUID();
            count = 0;
            part = 0;
          }
          const k = Math.min(s.maxEvents - count, events.length - at);
          parts.push({ sink: s, batchId, part, lo: at + 1, hi: at + k });
          part += 1;
          count += k;
          at += k;
        }
      }
      return { parts, events, at: Date.now() };
    },
    async write(c, tenantId, topic, plan) {
      if (plan.parts.length === 0) return;
      const ev = plan.events;
      await c.query(
        `INSERT INTO webhook_batch_parts (tenant_id, sink_id, batch_id, part, topic, event_ids, types, ordering_keys,
                                          payloads, seqs, owner, lease_until, created_at)
         SELECT $1::uuid, p.sink_id, p.batch_id, p.part, $2, ($3::uuid[])[p.lo:p.hi], ($4::text[])[p.lo:p.hi],
                ($5::text[])[p.lo:p.hi], ($6::text[])[p.lo:p.hi],
                ARRAY(SELECT nextval('deliveries_seq_seq') FROM generate_series(p.lo, p.hi) ORDER BY 1),
                $7, now() + make_interval(secs => $8::integer / 1000.0), $9::timestamptz
           FROM unnest($10::uuid[], $11::uuid[], $12::integer[], $13::integer[], $14::integer[])
                  AS p(sink_id, batch_id, part, lo, hi)`,
        [
          tenantId,
          topic,
          ev.map((e) => e.id),
          ev.map((e) => e.type),
          ev.map((e) => e.orderingKey),
          ev.map((e) => e.json),
          owner,
          leaseMs,
          new Date(plan.at).toISOString(),
          plan.parts.map((p) => p.sink.id),
          plan.parts.map((p) => p.batchId),
          plan.parts.map((p) => p.part),
          plan.parts.map((p) => p.lo),
          plan.parts.map((p) => p.hi),
        ],
      );
    },
    async apply(plan) {
      const touched = new Set<SinkState>();
      for (const p of plan.parts) {
        const s = p.sink;
        touched.add(s);
        if (s.open?.id !== p.batchId) {
          close(s);
          s.open = { id: p.batchId, events: [], parts: 0, newest: plan.at, openedAt: plan.at, bytes: 0 };
        }
        const b = s.open!;
        let bytes = 0;
        for (let i = p.lo - 1; i < p.hi; i++) {
          const json = plan.events[i]!.json;
          b.events.push(json);
          bytes += json.length;
        }
        b.bytes += bytes;
        b.parts = p.part + 1;
        b.newest = plan.at;
        s.events += p.hi - p.lo + 1;
        s.bytes += bytes;
        if (b.events.length >= s.maxEvents) close(s);
      }
      for (const s of touched) {
        if (s.events - (s.inflight?.events.length ?? 0) > boundOf(s.maxEvents) || s.bytes > maxBytes) {
          await overflow(s);
          continue;
        }
        if (!s.open || s.timer) continue;
        const wait = s.open.openedAt + s.maxWaitMs - Date.now();
        if (wait <= 0) {
          close(s);
          continue;
        }
        const id = s.open.id;
        s.timer = setTimeout(() => {
          void withTenantLock(s.tenantId, async () => {
            if (s.open?.id === id) close(s);
          });
        }, wait);
      }
    },
    rebalanced() {
      for (const s of sinks.values()) if (s.mode === 'direct') s.mode = 'unknown';
    },
    breakerState: (sinkId) => attempter.breakerState(sinkId),
    start() {
      renewTimer = setInterval(
        () => {
          renewing ??= renew().finally(() => (renewing = undefined));
        },
        Math.max(100, Math.floor(leaseMs / 3)),
      );
      sweepTimer = setInterval(() => {
        sweeping ??= sweep().finally(() => (sweeping = undefined));
      }, sweepMs);
    },
    async stop() {
      stopping = true;
      clearInterval(sweepTimer);
      await sweeping;
      // Bounded by the attempt timeout.
      await Promise.all([...sending]);
      clearInterval(renewTimer);
      await renewing;
      for (const s of sinks.values()) {
        const rest = takeAll(s);
        if (rest.length > 0)
          await convert(s, rest, []).catch((err: unknown) =>
            o.log.warn('direct batches left to the sweeper at stop', { sinkId: s.id, err: String(err) }),
          );
      }
      await done.idle();
      if (!o.attempter) attempter.close();
    },
  };
}
