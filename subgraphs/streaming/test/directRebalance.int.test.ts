/**
 * The direct batched path (batched sinks dispatched straight from the consumer) on real Kafka and
 * Postgres, with a receiver verifying every signature with `standardwebhooks`: partitions moving
 * between live members of one consumer group lose nothing, keep each session in order and repeat a
 * batch only under its webhook-id with the same body; a batch refused by the open breaker (no HTTP
 * call) is sent later under its id with its events, and the sink returns to DIRECT.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createDb, withTenant, type Db } from '@lt/db';
import { appendOutbox, Topic } from '@lt/events';
import { createLogger } from '@lt/logger';
import { Cleanup, createTestTenant, testEnv, uniqueName, waitFor, type TestTenant } from '@lt/testing';
import type { DeliveryPolicy } from '../src/delivery/schedule';
import { startStreamingPipeline } from '../src/pipeline';
import { eventsOf as eventsOfBatch, firstArrivalOrder, insertBatchedSink, journalOf } from './support/batched';
import { testSecretKey } from './support/fixtures';
import { startReceiver, type Behaviour, type Received } from './support/receiver';

const log = createLogger({ level: 'silent' });
const cleanup = new Cleanup();
const key = testSecretKey();
let db: Db;
const t: TestTenant[] = [];

interface Envelope {
  id: string;
  tenantId: string;
  data: { s: string; i: number };
}
const eventsOf = (r: Received): Envelope[] => eventsOfBatch<Envelope>(r);

beforeAll(async () => {
  db = createDb({ url: testEnv().databaseUrl });
  cleanup.add(() => db.$disconnect());
  for (let i = 0; i < 2; i++) t.push(await createTestTenant(db, `rebal${i}`));
}, 60_000);
afterAll(() => cleanup.run());

/** A member of consumer group `groupId` on topics `prefix`; stopped at the end unless stopped before. */
async function member(groupId: string, prefix: string, tenantIds: string[], delivery: Partial<DeliveryPolicy>) {
  const p = await startStreamingPipeline({
    db,
    log,
    brokers: testEnv().kafkaBrokers,
    groupId,
    topicPrefix: prefix,
    secretKey: key,
    urlPolicy: { allowLoopback: true },
    delivery,
    relayPollIntervalMs: 20,
    dispatcherPollIntervalMs: 50,
    tenantIds,
  });
  let stopped: Promise<void> | undefined;
  const stop = (): Promise<void> => (stopped ??= p.stop());
  cleanup.add(stop);
  return { p, stop };
}

async function receiver(behaviour?: Behaviour) {
  const r = await startReceiver(behaviour);
  cleanup.add(() => r.stop());
  return r;
}

/** One event per session in one outbox transaction, `i` = `round`. */
function emitRound(tenantId: string, sessions: string[], round: number) {
  return withTenant(db, tenantId, (tx) =>
    appendOutbox(
      tx,
      sessions.map((s) => ({
        topic: Topic.LOCATION_UPDATES,
        type: 'location.recorded.v1' as const,
        tenantId,
        entityId: s,
        data: { s, i: round },
      })),
    ),
  );
}

const deliveriesOf = (tenantId: string, sinkId: string) =>
  withTenant(db, tenantId, (tx) => tx.delivery.findMany({ where: { sinkId }, orderBy: { seq: 'asc' } }));

const seenIds = (accepted: Received[]) => new Set(accepted.flatMap(eventsOf).map((e) => e.id));

/** A repeated event only inside a repeat of its batch: one webhook-id per event, one body per webhook-id. */
function expectRepeatsOnlyUnderSameId(accepted: Received[]): void {
  const batchOf = new Map<string, string>();
  const rawOf = new Map<string, string>();
  for (const r of accepted) {
    const known = rawOf.get(r.id);
    if (known !== undefined) expect(r.raw, `batch ${r.id} repeated with another body`).toBe(known);
    rawOf.set(r.id, r.raw);
    for (const e of eventsOf(r)) {
      expect(batchOf.get(e.id) ?? r.id, `event ${e.id} under two webhook-ids`).toBe(r.id);
      batchOf.set(e.id, r.id);
    }
  }
}

const sleep = (ms: number) => new Promise((res) => setTimeout(res, ms));

describe('the direct batched path across rebalances and an open breaker', () => {
  it('partitions moving between live members: nothing lost, sessions in order, repeats only under the same webhook-id', async () => {
    const tn = t[0]!;
    const r = await receiver();
    const s = await insertBatchedSink(db, key, tn.id, r.url, { maxEvents: 50, maxWaitMs: 50 });
    r.setSecrets([s.secret]);
    const groupId = uniqueName('rebal-webhooks');
    const prefix = uniqueName('rebal') + '.';
    const delivery = { retryScheduleMs: [30, 60, 90, 120], attemptTimeoutMs: 5_000, breakerThreshold: 50 };
    const a = await member(groupId, prefix, [tn.id], delivery);
    await member(groupId, prefix, [tn.id], delivery);
    const sessions = Array.from({ length: 8 }, () => crypto.randomUUID());

    // Emit continuously; mid-stream one member stops cleanly, later a third joins.
    const rounds = 60;
    const sent: string[] = [];
    for (let round = 0; round < rounds; round++) {
      sent.push(...(await emitRound(tn.id, sessions, round)).map((e) => e.id));
      if (round === 20) await a.stop();
      if (round === 40) await member(groupId, prefix, [tn.id], delivery);
      await sleep(25);
    }
    await r.until(() => seenIds(r.accepted()).size >= sent.length, 30_000, 'every event');

    expect([...seenIds(r.accepted())].sort()).toEqual([...sent].sort());
    expect(r.all.every((q) => q.verified)).toBe(true);
    for (const sn of sessions) expect(firstArrivalOrder(r.accepted()).get(sn)).toEqual([...Array(rounds).keys()]);
    expectRepeatsOnlyUnderSameId(r.accepted());
    await waitFor(async () => (await journalOf(db, tn.id, s.sink.id)).length === 0, {
      what: 'journal emptied',
      timeoutMs: 10_000,
    });
    expect((await deliveriesOf(tn.id, s.sink.id)).filter((d) => d.status === 'PENDING')).toEqual([]);
  }, 40_000);

  it('a batch refused by the open breaker is sent later under its webhook-id with its events; then DIRECT again', async () => {
    const tn = t[1]!;
    let failing = true;
    const r = await receiver(() => (failing ? 503 : 200));
    const s = await insertBatchedSink(db, key, tn.id, r.url, { maxEvents: 5, maxWaitMs: 50 });
    r.setSecrets([s.secret]);
    const threshold = 3;
    // One direct failure and two leased ones open the breaker; the third failure is also the last
    // attempt, so the first events are dead-lettered, nothing is PENDING and the sink is DIRECT again
    // while its breaker is still open.
    const halfOpenAfterMs = 2_000;
    await member(uniqueName('breaker-webhooks'), uniqueName('breaker') + '.', [tn.id], {
      retryScheduleMs: [30, 30],
      attemptTimeoutMs: 5_000,
      breakerThreshold: threshold,
      breakerHalfOpenAfterMs: halfOpenAfterMs,
    });
    const sessions = Array.from({ length: 3 }, () => crypto.randomUUID());
    const first = (await emitRound(tn.id, sessions, 0)).map((e) => e.id);
    await waitFor(
      async () => {
        const ds = await deliveriesOf(tn.id, s.sink.id);
        return ds.length === first.length && ds.every((d) => d.status === 'DEAD') ? ds : undefined;
      },
      { what: 'first events dead-lettered', timeoutMs: 10_000 },
    );
    const failures = r.all.filter((q) => q.status === 503).length;
    expect(failures).toBe(threshold);

    // The receiver is fine now, but this process's breaker is open: the next direct batch makes no
    // HTTP call; its events become deliveries rows under its batch id.
    failing = false;
    const refusedAt = Date.now();
    const sent: string[] = [];
    let round = 1;
    for (; round < 4; round++) sent.push(...(await emitRound(tn.id, sessions, round)).map((e) => e.id));
    const parked = await waitFor(
      async () => {
        const ds = (await deliveriesOf(tn.id, s.sink.id)).filter((d) => sent.includes(d.eventId));
        return ds.length > 0 ? ds : undefined;
      },
      { what: 'refused batch parked', timeoutMs: 10_000 },
    );
    const refusedId = parked[0]!.batchId!;
    expect(refusedId).toBeTruthy();
    const refusedEvents = parked.filter((d) => d.batchId === refusedId).map((d) => d.eventId);

    await r.until(() => seenIds(r.accepted()).size >= sent.length, 15_000, 'every later event');
    expect([...seenIds(r.accepted())].sort()).toEqual([...sent].sort());
    // No HTTP call failed after recovery: the rows come from the refusal, not from an answer.
    expect(r.all.filter((q) => q.status === 503)).toHaveLength(threshold);
    expect(r.all.every((q) => q.verified)).toBe(true);
    // The refused batch went out later (after the breaker's half-open delay) under its webhook-id,
    // with its events in order.
    const sentAs = r.all.filter((q) => q.id === refusedId);
    expect(sentAs.length).toBeGreaterThan(0);
    expect(sentAs[0]!.at - refusedAt).toBeGreaterThanOrEqual(halfOpenAfterMs - 500);
    expect(eventsOf(sentAs[0]!).map((e) => e.id)).toEqual(refusedEvents);
    expectRepeatsOnlyUnderSameId(r.accepted());
    for (const sn of sessions)
      expect(firstArrivalOrder(r.accepted()).get(sn)).toEqual([...Array(round - 1).keys()].map((i) => i + 1));

    // Back to DIRECT: once nothing is PENDING, new events leave no deliveries row.
    await waitFor(
      async () => (await deliveriesOf(tn.id, s.sink.id)).every((d) => d.status !== 'PENDING') || undefined,
      { what: 'nothing pending', timeoutMs: 10_000 },
    );
    const rowsBefore = (await deliveriesOf(tn.id, s.sink.id)).length;
    const more: string[] = [];
    for (let k = 0; k < 3; k++, round++) more.push(...(await emitRound(tn.id, sessions, round)).map((e) => e.id));
    await r.until(() => seenIds(r.accepted()).size >= sent.length + more.length, 10_000, 'events after recovery');
    expect((await deliveriesOf(tn.id, s.sink.id)).length).toBe(rowsBefore);
    for (const sn of sessions)
      expect(firstArrivalOrder(r.accepted()).get(sn)).toEqual([...Array(round - 1).keys()].map((i) => i + 1));
    await waitFor(async () => (await journalOf(db, tn.id, s.sink.id)).length === 0, {
      what: 'journal emptied',
      timeoutMs: 10_000,
    });
  }, 40_000);
});
