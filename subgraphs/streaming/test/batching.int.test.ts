/**
 * Batched webhook delivery on real Kafka and Postgres, checked by a local receiver that verifies
 * every signature with the independent `standardwebhooks` package: batch size and wait limits,
 * per-session order across batches and under retries, a retried batch's webhook-id, and a slow
 * sink beside fast ones (of the same and of another tenant).
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createDb, withTenant, type Db } from '@lt/db';
import { appendOutbox, Topic } from '@lt/events';
import { createLogger } from '@lt/logger';
import { Cleanup, createTestTenant, testEnv, waitFor, type TestTenant } from '@lt/testing';
import { withRaw } from '../src/data/raw';
import type { StreamingPipeline } from '../src/pipeline';
import {
  eventsOf as eventsOfBatch,
  insertBatchedSink,
  journalOf as journalOfSink,
  startBatchedTestPipeline,
} from './support/batched';
import { emit, testSecretKey } from './support/fixtures';
import { startReceiver, type Behaviour, type Received } from './support/receiver';

const log = createLogger({ level: 'silent' });
const cleanup = new Cleanup();
const key = testSecretKey();
let db: Db;
let pipeline: StreamingPipeline;
const t: TestTenant[] = [];

interface Envelope {
  id: string;
  tenantId: string;
  data: Record<string, unknown>;
}
const eventsOf = (r: Received): Envelope[] => eventsOfBatch<Envelope>(r);

beforeAll(async () => {
  db = createDb({ url: testEnv().databaseUrl });
  cleanup.add(() => db.$disconnect());
  for (let i = 0; i < 4; i++) t.push(await createTestTenant(db, `batch${i}`));
  pipeline = await startBatchedTestPipeline({
    db,
    log,
    key,
    name: 'batch',
    tenantIds: t.map((x) => x.id),
    // Long enough that the slow receiver below is still unanswered when the fast ones are done.
    delivery: { retryScheduleMs: [30, 60], attemptTimeoutMs: 20_000, breakerThreshold: 50 },
  });
  cleanup.add(() => pipeline.stop());
}, 60_000);
afterAll(() => cleanup.run());

const journalOf = (tenantId: string, sinkId: string) => journalOfSink(db, tenantId, sinkId);
const directDelivered = async (tenantId: string, sinkId: string) =>
  withRaw(db, tenantId, async (c) =>
    Number(
      (await c.query<{ n: string }>('SELECT direct_delivered::text AS n FROM stream_sinks WHERE id = $1', [sinkId]))
        .rows[0]?.n,
    ),
  );

async function receiver(behaviour?: Behaviour) {
  const r = await startReceiver(behaviour);
  cleanup.add(() => r.stop());
  return r;
}

const sink = (
  tenantId: string,
  url: string,
  batch: { maxEvents: number; maxWaitMs: number } | null,
  topics: ('LOCATION_UPDATES' | 'SESSION_EVENTS')[] = ['LOCATION_UPDATES'],
) => insertBatchedSink(db, key, tenantId, url, batch, topics);

/** `n` location events of one session in ONE outbox transaction (so they are parked together). */
async function emitTogether(tenantId: string, session: string, n: number) {
  return withTenant(db, tenantId, (tx) =>
    appendOutbox(
      tx,
      Array.from({ length: n }, (_, i) => ({
        topic: Topic.LOCATION_UPDATES,
        type: 'location.recorded.v1' as const,
        tenantId,
        entityId: session,
        data: { i },
      })),
    ),
  );
}

describe('batched webhook delivery', () => {
  it('sends full batches of maxEvents, then the rest once it waited maxWaitMs; body, signature, order', async () => {
    const tn = t[0]!;
    const r = await receiver();
    const s = await sink(tn.id, r.url, { maxEvents: 5, maxWaitMs: 300 });
    r.setSecrets([s.secret]);
    const sent = await emitTogether(tn.id, crypto.randomUUID(), 12);

    await r.until(() => r.accepted().flatMap(eventsOf).length >= 12, 20_000, '12 events in batches');
    expect(r.all.every((x) => x.verified)).toBe(true);
    // Two full batches, and the two left over go out alone once the oldest waited (never 12 at once,
    // never more than maxEvents; a batch smaller than maxEvents only when nothing else was pending).
    expect(r.accepted().map((x) => eventsOf(x).length)).toEqual([5, 5, 2]);
    expect(
      r
        .accepted()
        .flatMap(eventsOf)
        .map((e) => e.id),
    ).toEqual(sent.map((e) => e.id));
    const first = r.accepted()[0]!;
    expect(first.body).toMatchObject({ type: 'batch', data: { events: expect.any(Array) } });
    expect(Date.parse((first.body as unknown as { timestamp: string }).timestamp)).not.toBeNaN();
    expect(eventsOf(first)[0]).toMatchObject({ id: sent[0]!.id, tenantId: tn.id, type: 'location.recorded.v1' });
    // webhook-id names the batch: one per request, none of them an event id.
    const ids = r.accepted().map((x) => x.id);
    expect(new Set(ids).size).toBe(3);
    expect(ids.some((id) => sent.some((e) => e.id === id))).toBe(false);
    // Sent straight from the consumer: no deliveries row, the journal emptied by the successes,
    // the sink's progress counted.
    await waitFor(async () => (await journalOf(tn.id, s.sink.id)).length === 0, { what: 'journal emptied' });
    expect(await withTenant(db, tn.id, (tx) => tx.delivery.count({ where: { sinkId: s.sink.id } }))).toBe(0);
    expect(await directDelivered(tn.id, s.sink.id)).toBe(12);
  });

  it("keeps each session's order across batches while every batch fails its first attempt, same webhook-id on the retry", async () => {
    const tn = t[1]!;
    const r = await receiver(({ nth }) => (nth === 1 ? 503 : 200));
    const s = await sink(tn.id, r.url, { maxEvents: 4, maxWaitMs: 0 });
    r.setSecrets([s.secret]);
    const [x, y] = [crypto.randomUUID(), crypto.randomUUID()];
    for (let i = 0; i < 10; i++) {
      await emit(db, tn.id, Topic.LOCATION_UPDATES, { i, s: 'x' }, x);
      await emit(db, tn.id, Topic.LOCATION_UPDATES, { i, s: 'y' }, y);
    }
    await r.until(() => r.accepted().flatMap(eventsOf).length >= 20, 30_000, '20 events accepted');
    expect(r.all.every((q) => q.verified)).toBe(true);
    const order = (which: string) =>
      r
        .accepted()
        .flatMap(eventsOf)
        .filter((e) => e.data['s'] === which)
        .map((e) => e.data['i']);
    expect(order('x')).toEqual([0, 1, 2, 3, 4, 5, 6, 7, 8, 9]);
    expect(order('y')).toEqual([0, 1, 2, 3, 4, 5, 6, 7, 8, 9]);
    // Every accepted batch was first refused under the same webhook-id, with the same events.
    for (const ok of r.accepted()) {
      const refused = r.all.filter((q) => q.id === ok.id && q.status === 503);
      expect(refused).toHaveLength(1);
      expect(eventsOf(refused[0]!).map((e) => e.id)).toEqual(eventsOf(ok).map((e) => e.id));
      expect(r.all.indexOf(refused[0]!)).toBeLessThan(r.all.indexOf(ok));
    }
    expect(r.accepted().every((q) => eventsOf(q).length <= 4)).toBe(true);
    // The last batch's success is recorded just after the receiver answered it.
    const rows = await waitFor(async () => {
      const ds = await withTenant(db, tn.id, (tx) => tx.delivery.findMany({ where: { sinkId: s.sink.id } }));
      return ds.every((d) => d.status !== 'PENDING') ? ds : undefined;
    });
    expect(rows.map((d) => [d.status, d.attempts])).toEqual(Array(20).fill(['DELIVERED', 2]));
  });

  it('a sink that does not answer holds one batch; fast sinks of its tenant and of another get everything', async () => {
    const [tn, other] = [t[2]!, t[3]!];
    const slow = await receiver(() => 'hang');
    const fast = await receiver();
    const fastOther = await receiver();
    const sSlow = await sink(tn.id, slow.url, { maxEvents: 10, maxWaitMs: 0 });
    const sFast = await sink(tn.id, fast.url, { maxEvents: 10, maxWaitMs: 0 });
    // The other tenant's sink is unbatched: it keeps getting one envelope per request.
    const sOther = await sink(other.id, fastOther.url, null);
    slow.setSecrets([sSlow.secret]);
    fast.setSecrets([sFast.secret]);
    fastOther.setSecrets([sOther.secret]);
    const session = crypto.randomUUID();
    const mine = await emitTogether(tn.id, session, 30);
    const theirs: string[] = [];
    for (let i = 0; i < 10; i++) theirs.push((await emit(db, other.id, Topic.LOCATION_UPDATES, { i }, session)).id);

    await fast.until(() => fast.accepted().flatMap(eventsOf).length >= 30, 30_000, 'fast sink got 30');
    await fastOther.until(() => fastOther.accepted().length >= 10, 30_000, "other tenant's sink got 10");
    expect(
      fast
        .accepted()
        .flatMap(eventsOf)
        .map((e) => e.id),
    ).toEqual(mine.map((e) => e.id));
    expect(fast.accepted().map((x) => eventsOf(x).length)).toEqual([10, 10, 10]);
    expect(fastOther.accepted().map((x) => x.id)).toEqual(theirs);
    expect(fastOther.accepted().map((x) => x.body.id)).toEqual(theirs);
    // All of that happened while the slow sink's first batch was still unanswered: it held exactly
    // one request, and none of its other events left the process.
    expect(slow.all).toHaveLength(1);
    expect(eventsOf(slow.all[0]!).map((e) => e.id)).toEqual(mine.slice(0, 10).map((e) => e.id));
    // Its 30 events are in its journal (in this process's memory), none parked as deliveries rows.
    const journal = await journalOf(tn.id, sSlow.sink.id);
    expect(journal.flatMap((p) => p.event_ids)).toEqual(mine.map((e) => e.id));
    expect(
      await withTenant(db, tn.id, (tx) => tx.delivery.count({ where: { sinkId: sSlow.sink.id, status: 'PENDING' } })),
    ).toBe(0);
  });
});
