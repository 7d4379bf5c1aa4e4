import type pg from 'pg';
import { withSystem, type Db } from '@lt/db';
import { rawQuery, withRaw } from '../data/raw';
import type { Logger } from '@lt/logger';
import type { EventLog, LogProducer, OutgoingMessage, TopicMessages } from '../eventLog';
import type { TopicNames } from '../kafka/client';
import { createIdler } from '../util/idler';

export interface OutboxRelayOptions {
  db: Db;
  /** Kafka, or the in-process log (`npm start`). */
  eventLog: EventLog;
  topics: TopicNames;
  log: Logger;
  /** Only these tenants' rows (tests; each scope has its own lock). Default: every tenant. */
  tenantIds?: readonly string[];
  /** Rows per batch (at most 20,000). Default 5,000. */
  batchSize?: number;
  /** Batches per transaction at most (read ahead while the previous one is sent). Default 10. */
  maxBatchesPerTx?: number;
  /** Idle poll interval when the outbox is empty, ms. Default 200. */
  pollIntervalMs?: number;
  /**
   * Poll interval while rows keep coming: after a batch that had rows but was not full, and for
   * `activeWindowMs` after the last row was seen, ms. Default 10.
   */
  busyPollIntervalMs?: number;
  /** How long after the last row the relay keeps polling at the busy interval, ms. Default 1_000. */
  activeWindowMs?: number;
  /** Backoff after a failed publish grows from this to `maxBackoffMs`, ms. Default 200 / 5_000. */
  minBackoffMs?: number;
  maxBackoffMs?: number;
  /** Bytes of keys, values and headers per event-log request at most. Default 768 KiB. */
  maxRequestBytes?: number;
  /** Sent rows are deleted after this, seconds. Default 86_400 (1 day). */
  retentionSeconds?: number;
  /** How often cleanup runs, ms. Default 60_000. */
  cleanupIntervalMs?: number;
}

export interface OutboxRelay {
  start(): void;
  /** Wakes the relay now (e.g. right after an in-process write). */
  wake(): void;
  /** Publishes one batch; resolves with the number of rows published (0: empty or another relay holds the lock). */
  tick(): Promise<number>;
  /** Unsent rows across tenants and the oldest one's creation time. */
  backlog(): Promise<{ unsent: number; oldestUnsentAt: Date | null }>;
  /** Deletes sent rows older than the retention; returns how many. */
  cleanup(): Promise<number>;
  readonly published: number;
  /** Polls: checks for rows to publish (app_outbox_pending) and publishing transactions. */
  readonly polls: number;
  /** Of those, rows marked sent one by one (published while an older transaction was open). */
  readonly markedOneByOne: number;
  stop(): Promise<void>;
}

/** An outbox row as the SECURITY DEFINER functions return it. */
export interface ClaimedRow {
  id: string;
  seq: bigint;
  tenant_id: string;
  topic: string;
  key: string;
  type: string;
  payload: unknown;
  occurred_at: Date;
}

/**
 * Outbox rows as event-log messages, grouped by topic; within a topic the rows keep their (seq)
 * order, so each key's order is kept. The value is the envelope every consumer reads.
 */
export function groupByTopic(rows: readonly ClaimedRow[], topics: TopicNames): Map<string, OutgoingMessage[]> {
  const byTopic = new Map<string, OutgoingMessage[]>();
  for (const r of rows) {
    const topic = topics.of(r.topic);
    const list = byTopic.get(topic) ?? [];
    // The tenant travels in a header too (tenant first, as in the key): consumers can route before parsing.
    list.push({
      key: r.key,
      value: envelopeText(r.id, r.type, r.tenant_id, r.occurred_at.getTime(), JSON.stringify(r.payload)),
      headers: { 'tenant-id': r.tenant_id, 'event-type': r.type },
    });
    byTopic.set(topic, list);
  }
  return byTopic;
}

/**
 * A row of app_outbox_next_rows, as node-postgres returns it in array mode: id, txid, seq, final,
 * tenant id, topic, key, type, occurred_at in epoch milliseconds, payload (jsonb as text).
 */
export type RowArray = [string, string, string, boolean, string, string, string, string, string, string];

const typeJson = new Map<string, string>();
/** A JSON string literal of an event type (few distinct values: memoised). */
function jsonType(type: string): string {
  let s = typeJson.get(type);
  if (s === undefined) {
    s = JSON.stringify(type);
    if (typeJson.size < 1_000) typeJson.set(type, s);
  }
  return s;
}

/**
 * The envelope every consumer reads, as JSON text, keys in a fixed order (id, type, tenantId,
 * occurredAt, data): built around the payload's text (valid JSON: jsonb's output) instead of
 * parsing and re-serialising it. Ids are uuids (nothing to escape); the type is a JSON literal.
 */
export function envelopeText(
  id: string,
  type: string,
  tenantId: string,
  occurredAtMs: number,
  payload: string,
): string {
  return (
    '{"id":"' +
    id +
    '","type":' +
    jsonType(type) +
    ',"tenantId":"' +
    tenantId +
    '","occurredAt":"' +
    new Date(occurredAtMs).toISOString() +
    '","data":' +
    payload +
    '}'
  );
}

/**
 * Rows of a batch as event-log requests, in relay order: each request at most `maxRequestBytes` of
 * keys, values and headers (Kafka refuses a partition's record batch above its message.max.bytes,
 * 1 MiB by default, so a 5,000-row batch is split), its messages grouped by topic, each topic's
 * messages in relay order (so each key's order is kept across requests sent one after another).
 */
export function toSend(rows: readonly RowArray[], topics: TopicNames, maxRequestBytes: number): TopicMessages[][] {
  const requests: TopicMessages[][] = [];
  let byTopic = new Map<string, OutgoingMessage[]>();
  let bytes = 0;
  const flush = () => {
    if (byTopic.size) requests.push([...byTopic].map(([topic, messages]) => ({ topic, messages })));
    byTopic = new Map();
    bytes = 0;
  };
  for (const [id, , , , tenantId, topic, key, type, occurredAtMs, payload] of rows) {
    const value = envelopeText(id, type, tenantId, Number(occurredAtMs), payload);
    const size = Buffer.byteLength(key) + Buffer.byteLength(value) + tenantId.length + Buffer.byteLength(type) + 32;
    if (bytes > 0 && bytes + size > maxRequestBytes) flush();
    bytes += size;
    const name = topics.of(topic);
    let list = byTopic.get(name);
    if (!list) byTopic.set(name, (list = []));
    // The tenant travels in a header too: consumers can route before parsing.
    list.push({ key, value, headers: { 'tenant-id': tenantId, 'event-type': type } });
  }
  flush();
  return requests;
}

/**
 * Publishes the outbox to the event log (Kafka) in relay order, (txid, seq): rows of one transaction
 * in seq order, transactions in the order they took their id, which is commit order for
 * transactions that do not overlap, so each key's order is kept. The cursor only passes rows of
 * transactions older than the read's snapshot xmin, so no row can commit later behind it. Per
 * scope (advisory lock): read → send with the idempotent producer (maxInFlightRequests 1, so
 * per-partition order survives retries) → move the scope's cursor → commit. A failed send leaves
 * the cursor where it was: the rows stay unsent and go out when Kafka is back, so nothing is lost.
 * A crash between send and commit republishes the batch (at-least-once); consumers deduplicate by
 * event id.
 */
export function createOutboxRelay(o: OutboxRelayOptions): OutboxRelay {
  const log = o.log;
  const scope = o.tenantIds ? [...o.tenantIds] : null;
  const batchSize = o.batchSize ?? 5_000;
  const maxBatchesPerTx = o.maxBatchesPerTx ?? 10;
  const maxRequestBytes = o.maxRequestBytes ?? 768 * 1024;
  // A transaction stops reading ahead after this: its cursor moves commit, other relays get a turn.
  const maxTxMs = 2_000;
  const pollMs = o.pollIntervalMs ?? 200;
  const busyPollMs = Math.min(o.busyPollIntervalMs ?? 10, pollMs);
  const activeWindowMs = o.activeWindowMs ?? 1_000;
  const minBackoff = o.minBackoffMs ?? 200;
  const maxBackoff = o.maxBackoffMs ?? 5_000;
  let producer: LogProducer | undefined;
  let stopping = false;
  let loop: Promise<void> | undefined;
  const idler = createIdler();
  let published = 0;
  let polls = 0;
  let markedOneByOne = 0;
  let cleanupTimer: NodeJS.Timeout | undefined;

  // The port's producer is idempotent with one request in flight (Kafka), so retries keep order.
  const ensureProducer = (): LogProducer => (producer ??= o.eventLog.producer());

  /** Disconnects after a failure; the next send connects afresh. */
  async function dropProducer(): Promise<void> {
    await producer?.stop().catch(() => undefined);
  }

  interface ReadBatch {
    n: number;
    /** The last row's (txid, seq): where a read-ahead in the same transaction goes on. */
    txid: string | null;
    seq: string | null;
    /** The last final row's (txid, seq): where the scope's cursor moves once the batch is sent. */
    final_txid: string | null;
    final_seq: string | null;
    /** Ids of the rows of transactions newer than an open one (the tail): marked sent one by one. */
    tailIds: string[];
    /** The batch as event-log requests, in relay order. */
    requests: TopicMessages[][];
  }

  /**
   * The next batch (app_outbox_next_rows, one row per outbox row, in relay order): after `after`,
   * or after the scope's cursor. `markAll`: every row is to be marked sent, none moves the cursor.
   */
  async function read(c: pg.PoolClient, after?: ReadBatch, markAll = false): Promise<ReadBatch> {
    const { rows } = await c.query<RowArray>({
      text: `SELECT id, txid::text, seq::text, final, tenant_id, topic, key, type, occurred_at_ms::text, payload
               FROM app_outbox_next_rows($1, $2::xid8, $3::bigint, $4, $5::uuid[])`,
      values: [batchSize, after?.txid ?? null, after?.seq ?? null, markAll, scope],
      rowMode: 'array',
    });
    const b: ReadBatch = {
      n: rows.length,
      txid: null,
      seq: null,
      final_txid: null,
      final_seq: null,
      tailIds: [],
      requests: toSend(rows, o.topics, maxRequestBytes),
    };
    for (const [id, txid, seq, final] of rows) {
      if (final) {
        b.final_txid = txid;
        b.final_seq = seq;
      } else b.tailIds.push(id);
    }
    const last = rows[rows.length - 1];
    if (last) [, b.txid, b.seq] = last;
    return b;
  }

  /** Records a sent batch: the cursor past its final rows (one row), its tail rows marked sent. */
  async function recordSent(c: pg.PoolClient, b: ReadBatch): Promise<void> {
    if (b.final_txid !== null)
      await c.query('SELECT app_outbox_advance($1::xid8, $2::bigint, $3::uuid[])', [b.final_txid, b.final_seq, scope]);
    if (b.tailIds.length > 0) {
      await c.query('SELECT app_outbox_mark_sent($1::uuid[])', [b.tailIds]);
      markedOneByOne += b.tailIds.length;
    }
  }

  /** Sends the requests one after another (a key's messages stay in order across them). */
  async function send(p: LogProducer, requests: TopicMessages[][]): Promise<void> {
    for (const r of requests) await p.sendBatch(r);
  }

  /**
   * One transaction of up to `maxBatchesPerTx` batches, pipelined: while batch N is sent, batch
   * N+1 is read (the same transaction holds the advisory lock, so no other relay reads them); once
   * Kafka acknowledged N, the scope's cursor moves past its final rows (one row, no per-row mark;
   * only tail rows, committed while an older transaction is still open, are marked one by one), and
   * these records commit together. A failed send ends the transaction early: the batches
   * acknowledged before it are committed as sent, the failed one stays unsent, and the error is
   * thrown after the commit.
   */
  async function tick(): Promise<number> {
    let failure: unknown;
    const started = Date.now();
    polls++;
    // A send that never returns must not hold the lock and the rows forever (the bound is set with
    // BEGIN, in the same round trip).
    const n = await withRaw(
      o.db,
      null,
      async (c) => {
        let sent = 0;
        let afterTail = false;
        let cur = await read(c);
        for (let i = 0; cur.n > 0; i++) {
          const p = ensureProducer();
          const sending = send(p, cur.requests).then(
            () => undefined,
            (err: unknown) => err ?? new Error('send failed'),
          );
          // Read ahead only while more rows are likely (a full batch) and the transaction is young.
          // After a tail, rows of the open transaction may commit below the next batches, so the
          // cursor must not pass them: their rows are marked one by one instead.
          const more = cur.n >= batchSize && i + 1 < maxBatchesPerTx && Date.now() - started < maxTxMs;
          afterTail ||= cur.tailIds.length > 0;
          const next = more ? read(c, cur, afterTail) : undefined;
          next?.catch(() => undefined); // awaited below; not an unhandled rejection meanwhile
          const err = await sending;
          if (err) {
            await next?.catch(() => undefined);
            failure = err;
            break;
          }
          await recordSent(c, cur);
          sent += cur.n;
          if (!next) break;
          cur = await next;
        }
        return sent;
      },
      { idleInTransactionMs: 60_000 },
    );
    published += n;
    if (failure) throw failure;
    return n;
  }

  /** Whether the scope has rows to publish: one statement, no transaction, no lock. */
  async function pending(): Promise<boolean> {
    polls++;
    const rows = await rawQuery<{ p: boolean }>(o.db, 'SELECT app_outbox_pending($1::uuid[]) AS p', [scope]);
    return rows[0]?.p === true;
  }

  async function run(): Promise<void> {
    let backoff = minBackoff;
    let lastRowsAt = -Infinity;
    let full = false;
    while (!stopping) {
      let n = 0;
      try {
        // After a full batch more rows are likely: no check first.
        n = full || (await pending()) ? await tick() : 0;
        backoff = minBackoff;
      } catch (err) {
        log.warn('outbox relay: publish failed; rows stay in the outbox', { err: String(err), retryInMs: backoff });
        await dropProducer();
        await idler.idle(backoff);
        backoff = Math.min(backoff * 2, maxBackoff);
        continue;
      }
      // Under steady writes each batch is small and the next transaction commits soon: look again
      // after the busy interval, for a while after the last row too (a full idle pause would add up
      // to pollIntervalMs to every event's latency). An outbox that stays empty for the window
      // gets the idle interval again: an idle relay polls 1000 / pollIntervalMs times a second.
      const now = Date.now();
      if (n > 0) lastRowsAt = now;
      full = n >= batchSize;
      if (full) continue;
      await idler.idle(n > 0 || now - lastRowsAt < activeWindowMs ? busyPollMs : pollMs);
    }
  }

  async function cleanup(): Promise<number> {
    const rows = await withSystem(
      o.db,
      (tx) =>
        tx.$queryRaw<
          { n: number }[]
        >`SELECT app_outbox_cleanup(${o.retentionSeconds ?? 86_400}::integer, 5000::integer) AS n`,
    );
    return rows[0]?.n ?? 0;
  }

  return {
    get published() {
      return published;
    },
    get polls() {
      return polls;
    },
    get markedOneByOne() {
      return markedOneByOne;
    },
    start() {
      if (loop) return;
      loop = run();
      cleanupTimer = setInterval(() => {
        cleanup().catch((err: unknown) => log.warn('outbox cleanup failed', { err: String(err) }));
      }, o.cleanupIntervalMs ?? 60_000);
      cleanupTimer.unref();
    },
    wake: () => idler.wake(),
    tick,
    cleanup,
    async backlog() {
      const rows = await withSystem(
        o.db,
        (tx) => tx.$queryRaw<{ unsent: bigint; oldest_unsent_at: Date | null }[]>`SELECT * FROM app_outbox_backlog()`,
      );
      return { unsent: Number(rows[0]?.unsent ?? 0), oldestUnsentAt: rows[0]?.oldest_unsent_at ?? null };
    },
    async stop() {
      stopping = true;
      clearInterval(cleanupTimer);
      idler.stop();
      await loop;
      await dropProducer();
    },
  };
}
