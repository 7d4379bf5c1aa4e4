import { withSystem, type Db } from '@lt/db';
import type { Logger } from '@lt/logger';
import type { EventLog, LogProducer, OutgoingMessage } from '../eventLog';
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
  /** Rows per batch (at most 5,000). Default 2,000. */
  batchSize?: number;
  /** Idle poll interval when the outbox is empty, ms. Default 200. */
  pollIntervalMs?: number;
  /** Poll interval while rows keep coming (the last batch had some but was not full), ms. Default 10. */
  busyPollIntervalMs?: number;
  /** Backoff after a failed publish grows from this to `maxBackoffMs`, ms. Default 200 / 5_000. */
  minBackoffMs?: number;
  maxBackoffMs?: number;
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
    const envelope = {
      id: r.id,
      type: r.type,
      tenantId: r.tenant_id,
      occurredAt: r.occurred_at.toISOString(),
      data: r.payload,
    };
    const topic = topics.of(r.topic);
    const list = byTopic.get(topic) ?? [];
    // The tenant travels in a header too (tenant first, as in the key): consumers can route before parsing.
    list.push({
      key: r.key,
      value: JSON.stringify(envelope),
      headers: { 'tenant-id': r.tenant_id, 'event-type': r.type },
    });
    byTopic.set(topic, list);
  }
  return byTopic;
}

/**
 * Publishes the outbox to the event log (Kafka) in `seq` order, one batch per transaction: claim (advisory lock +
 * row locks) → send with the idempotent producer (maxInFlightRequests 1, so per-partition order
 * survives retries) → mark sent → commit. A failed send rolls the transaction back: the rows stay
 * unsent and go out when Kafka is back, so nothing is lost. A crash between send and commit
 * republishes the batch (at-least-once); consumers deduplicate by event id.
 */
export function createOutboxRelay(o: OutboxRelayOptions): OutboxRelay {
  const log = o.log;
  const scope = o.tenantIds ? [...o.tenantIds] : null;
  const batchSize = o.batchSize ?? 2_000;
  const pollMs = o.pollIntervalMs ?? 200;
  const busyPollMs = Math.min(o.busyPollIntervalMs ?? 10, pollMs);
  const minBackoff = o.minBackoffMs ?? 200;
  const maxBackoff = o.maxBackoffMs ?? 5_000;
  let producer: LogProducer | undefined;
  let stopping = false;
  let loop: Promise<void> | undefined;
  const idler = createIdler();
  let published = 0;
  let cleanupTimer: NodeJS.Timeout | undefined;

  // The port's producer is idempotent with one request in flight (Kafka), so retries keep order.
  const ensureProducer = (): LogProducer => (producer ??= o.eventLog.producer());

  /** Disconnects after a failure; the next send connects afresh. */
  async function dropProducer(): Promise<void> {
    await producer?.stop().catch(() => undefined);
  }

  async function tick(): Promise<number> {
    return withSystem(
      o.db,
      async (tx) => {
        const rows = await tx.$queryRaw<
          ClaimedRow[]
        >`SELECT * FROM app_outbox_claim(${batchSize}::integer, ${scope}::uuid[])`;
        if (rows.length === 0) return 0;
        const p = ensureProducer();
        // Grouped by topic; within a topic the batch keeps seq order, so each key's order is kept.
        const byTopic = groupByTopic(rows, o.topics);
        await p.sendBatch([...byTopic].map(([topic, messages]) => ({ topic, messages })));
        await tx.$queryRaw`SELECT app_outbox_mark_sent(${rows.map((r) => r.id)}::uuid[])`;
        published += rows.length;
        return rows.length;
      },
      // Longer than the producer's worst case (connect + retries + send), so Kafka fails first.
      { timeoutMs: 30_000 },
    );
  }

  async function run(): Promise<void> {
    let backoff = minBackoff;
    while (!stopping) {
      let n = 0;
      try {
        n = await tick();
        backoff = minBackoff;
      } catch (err) {
        log.warn('outbox relay: publish failed; rows stay in the outbox', { err: String(err), retryInMs: backoff });
        await dropProducer();
        await idler.idle(backoff);
        backoff = Math.min(backoff * 2, maxBackoff);
        continue;
      }
      // Under steady writes each batch is small: look again soon rather than after a full idle pause
      // (the pause would add up to pollIntervalMs to every event's latency).
      if (n === 0) await idler.idle(pollMs);
      else if (n < batchSize) await idler.idle(busyPollMs);
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
