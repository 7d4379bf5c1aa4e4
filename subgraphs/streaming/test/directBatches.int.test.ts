/**
 * Batched sinks dispatched straight from the consumer (the DIRECT state), on real Kafka and
 * Postgres, checked by a local receiver that verifies every signature with `standardwebhooks`: a
 * failed direct batch becomes deliveries rows and is retried by the leased path under the same
 * webhook-id with the same body, sessions stay in order through the switch and back; a journal row
 * whose owner stopped renewing it is converted and sent with its batch id and body; a slow sink
 * leaves fast ones alone; a sink's memory is bounded; rows parked behind direct batches still in
 * memory wait for them; the journal is isolated between tenants. The kill -9 case is
 * crash.int.test.ts (its batched sink runs on this path).
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createDb, withTenant, type Db } from '@lt/db';
import { appendOutbox, Topic } from '@lt/events';
import { createLogger } from '@lt/logger';
import { Cleanup, createTestTenant, testEnv, waitFor, type TestTenant } from '@lt/testing';
import { withRaw } from '../src/data/raw';
import { directBatchBody } from '../src/delivery/directDispatcher';
import type { StreamingPipeline } from '../src/pipeline';
import {
  eventsOf as eventsOfBatch,
  firstArrivalOrder,
  insertBatchedSink,
  journalOf as journalOfSink,
  startBatchedTestPipeline,
} from './support/batched';
import { testSecretKey } from './support/fixtures';
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
  data: { s: string; i: number };
}
const eventsOf = (r: Received): Envelope[] => eventsOfBatch<Envelope>(r);

beforeAll(async () => {
  db = createDb({ url: testEnv().databaseUrl });
  cleanup.add(() => db.$disconnect());
  for (let i = 0; i < 7; i++) t.push(await createTestTenant(db, `direct${i}`));
  pipeline = await startBatchedTestPipeline({
    db,
    log,
    key,
    name: 'direct',
    tenantIds: t.map((x) => x.id),
    delivery: { retryScheduleMs: [30, 60, 90], attemptTimeoutMs: 20_000, breakerThreshold: 50 },
  });
  cleanup.add(() => pipeline.stop());
}, 60_000);
afterAll(() => cleanup.run());

async function receiver(behaviour?: Behaviour) {
  const r = await startReceiver(behaviour);
  cleanup.add(() => r.stop());
  return r;
}

const sink = (tenantId: string, url: string, batch: { maxEvents: number; maxWaitMs: number }) =>
  insertBatchedSink(db, key, tenantId, url, batch, ['LOCATION_UPDATES'], 'direct');

/** `n` location events in ONE outbox transaction, sessions taking turns. */
async function emitTogether(tenantId: string, sessions: string[], n: number, from = 0) {
  return withTenant(db, tenantId, (tx) =>
    appendOutbox(
      tx,
      Array.from({ length: n }, (_, k) => ({
        topic: Topic.LOCATION_UPDATES,
        type: 'location.recorded.v1' as const,
        tenantId,
        entityId: sessions[k % sessions.length],
        data: { s: sessions[k % sessions.length]!, i: from + Math.floor(k / sessions.length) },
      })),
    ),
  );
}

const journalOf = (tenantId: string, sinkId: string) => journalOfSink(db, tenantId, sinkId);
const deliveriesOf = (tenantId: string, sinkId: string) =>
  withTenant(db, tenantId, (tx) => tx.delivery.findMany({ where: { sinkId }, orderBy: { seq: 'asc' } }));

describe('batched sinks dispatched straight from the consumer', () => {
  it('a failed direct batch is retried by the leased path under the same webhook-id and body; order kept; then DIRECT again', async () => {
    const tn = t[0]!;
    const ids: string[] = [];
    // The second batch this sink ever sees is refused once.
    const r = await receiver(({ id, nth }) => {
      if (!ids.includes(id)) ids.push(id);
      return ids.indexOf(id) === 1 && nth === 1 ? 503 : 200;
    });
    const s = await sink(tn.id, r.url, { maxEvents: 5, maxWaitMs: 50 });
    r.setSecrets([s.secret]);
    const sessions = [crypto.randomUUID(), crypto.randomUUID(), crypto.randomUUID()];
    for (let k = 0; k < 6; k++) await emitTogether(tn.id, sessions, 6, k * 2);
    await r.until(
      () =>
        new Set(
          r
            .accepted()
            .flatMap(eventsOf)
            .map((e) => e.id),
        ).size >= 36,
      30_000,
      '36 events',
    );
    expect(r.all.every((q) => q.verified)).toBe(true);

    // The refused batch went out again under its id with byte for byte the same body.
    const refused = r.all.filter((q) => q.status === 503);
    expect(refused).toHaveLength(1);
    const retried = r.accepted().filter((q) => q.id === refused[0]!.id);
    expect(retried).toHaveLength(1);
    expect(JSON.parse(retried[0]!.raw)).toEqual(JSON.parse(refused[0]!.raw));
    expect(retried[0]!.raw).toBe(refused[0]!.raw);
    // …by the leased path: its events are deliveries rows under that batch id, attempted twice.
    const rows = await waitFor(async () => {
      const ds = await deliveriesOf(tn.id, s.sink.id);
      return ds.length > 0 && ds.every((d) => d.status === 'DELIVERED') ? ds : undefined;
    });
    const retriedIds = eventsOf(retried[0]!).map((e) => e.id);
    expect(rows.filter((d) => d.batchId === refused[0]!.id).map((d) => [d.eventId, d.attempts])).toEqual(
      retriedIds.map((id) => [id, 2]),
    );
    // The first batch went out directly: no row.
    expect(rows.some((d) => eventsOf(r.accepted()[0]!).some((e) => e.id === d.eventId))).toBe(false);
    for (const [, is] of firstArrivalOrder(r.accepted())) expect(is).toEqual([...Array(12).keys()]);

    // Nothing PENDING any more: the sink is DIRECT again, new events leave no deliveries row.
    const before = rows.length;
    const more = await emitTogether(tn.id, sessions, 9, 12);
    await r.until(
      () =>
        new Set(
          r
            .accepted()
            .flatMap(eventsOf)
            .map((e) => e.id),
        ).size >= 45,
      30_000,
      '9 more events',
    );
    expect((await deliveriesOf(tn.id, s.sink.id)).length).toBe(before);
    // (Sessions are on different partitions: only each session's order is defined.)
    expect(
      new Set(
        r
          .accepted()
          .flatMap(eventsOf)
          .slice(-9)
          .map((e) => e.id),
      ),
    ).toEqual(new Set(more.map((e) => e.id)));
    for (const [, is] of firstArrivalOrder(r.accepted())) expect(is).toEqual([...Array(15).keys()]);
    await waitFor(async () => (await journalOf(tn.id, s.sink.id)).length === 0, { what: 'journal emptied' });
  });

  it('rows parked behind direct batches still in memory wait for them: the leased path skips a sink with live journal rows', async () => {
    const tn = t[6]!;
    const r = await receiver(() => ({ status: 200, afterMs: 300 }));
    const s = await sink(tn.id, r.url, { maxEvents: 5, maxWaitMs: 0 });
    r.setSecrets([s.secret]);
    const session = crypto.randomUUID();
    const direct = await emitTogether(tn.id, [session], 15);
    await waitFor(async () => new Set((await journalOf(tn.id, s.sink.id)).map((p) => p.batch_id)).size === 3, {
      what: 'three direct batches journaled',
    });
    // Another process parks a later event of the session (a PENDING row, a later seq), due now…
    const lateId = crypto.randomUUID();
    await withRaw(db, tn.id, (c) =>
      c.query(
        `INSERT INTO deliveries (id, tenant_id, sink_id, event_id, topic, type, payload, ordering_key, next_attempt_at,
                                 updated_at)
         VALUES (gen_random_uuid(), $1, $2, $3, 'LOCATION_UPDATES', 'location.recorded.v1', $4::jsonb, 'k', now(), now())`,
        [
          tn.id,
          s.sink.id,
          lateId,
          JSON.stringify({ id: lateId, tenantId: tn.id, type: 'location.recorded.v1', data: { s: session, i: 15 } }),
        ],
      ),
    );
    // …and this process's next events are parked behind it (the sink has a PENDING row).
    const parked = await emitTogether(tn.id, [session], 5, 16);
    await r.until(() => r.accepted().flatMap(eventsOf).length >= 21, 30_000, '21 events');
    expect(
      r
        .accepted()
        .flatMap(eventsOf)
        .map((e) => e.id),
    ).toEqual([...direct.map((e) => e.id), lateId, ...parked.map((e) => e.id)]);
    expect(r.all.every((q) => q.verified)).toBe(true);
  });

  it('a journal batch whose owner stopped renewing its lease is converted and sent with its webhook-id and body', async () => {
    const tn = t[1]!;
    const r = await receiver();
    const s = await sink(tn.id, r.url, { maxEvents: 10, maxWaitMs: 50 });
    r.setSecrets([s.secret]);
    // Two parts of one batch written by a process that died (lease already over), envelopes in
    // their own spacing: they must go out exactly as written.
    const batchId = crypto.randomUUID();
    const events = Array.from({ length: 4 }, (_, i) => ({
      id: crypto.randomUUID(),
      json: `{ "id": "${crypto.randomUUID()}", "tenantId": "${tn.id}", "type": "location.recorded.v1", "data": {"i": ${i}} }`,
    }));
    const createdAt = new Date(Date.now() - 60_000);
    createdAt.setMilliseconds(123);
    await withRaw(db, tn.id, async (c) => {
      for (const [part, slice] of [events.slice(0, 3), events.slice(3)].entries())
        await c.query(
          `INSERT INTO webhook_batch_parts (tenant_id, sink_id, batch_id, part, topic, event_ids, types, ordering_keys,
                                            payloads, seqs, owner, lease_until, created_at)
           VALUES ($1, $2, $3, $4, 'LOCATION_UPDATES', $5::uuid[], $6::text[], $7::text[], $8::text[],
                   ARRAY(SELECT nextval('deliveries_seq_seq') FROM generate_series(1, $9::integer) ORDER BY 1),
                   'a-process-that-died', now() - interval '1 second', $10)`,
          [
            tn.id,
            s.sink.id,
            batchId,
            part,
            slice.map((e) => e.id),
            slice.map(() => 'location.recorded.v1'),
            slice.map(() => 'k'),
            slice.map((e) => e.json),
            slice.length,
            createdAt,
          ],
        );
    });
    await r.until(() => r.accepted().length >= 1, 20_000, 'the swept batch');
    expect(r.all).toHaveLength(1);
    expect(r.all[0]!.verified).toBe(true);
    expect(r.all[0]!.id).toBe(batchId);
    expect(r.all[0]!.raw).toBe(
      directBatchBody(
        events.map((e) => e.json),
        createdAt.getTime(),
      ),
    );
    const rows = await waitFor(async () => {
      const ds = await deliveriesOf(tn.id, s.sink.id);
      return ds.length === 4 && ds.every((d) => d.status === 'DELIVERED') ? ds : undefined;
    });
    expect(rows.map((d) => [d.eventId, d.batchId])).toEqual(events.map((e) => [e.id, batchId]));
    expect(await journalOf(tn.id, s.sink.id)).toEqual([]);
  });

  it('a sink answering in 2 s does not delay fast sinks of its tenant or of another beyond their own limits', async () => {
    const [tn, other] = [t[2]!, t[3]!];
    const slow = await receiver(() => ({ status: 200, afterMs: 2_000 }));
    const fast = await receiver();
    const fastOther = await receiver();
    const sSlow = await sink(tn.id, slow.url, { maxEvents: 10, maxWaitMs: 50 });
    const sFast = await sink(tn.id, fast.url, { maxEvents: 10, maxWaitMs: 50 });
    const sOther = await sink(other.id, fastOther.url, { maxEvents: 10, maxWaitMs: 50 });
    slow.setSecrets([sSlow.secret]);
    fast.setSecrets([sFast.secret]);
    fastOther.setSecrets([sOther.secret]);
    const session = crypto.randomUUID();
    const emittedAt = new Map<string, number>();
    for (let k = 0; k < 4; k++) {
      for (const x of [tn, other])
        for (const e of await emitTogether(x.id, [session], 10, k * 10)) emittedAt.set(e.id, Date.now());
      await new Promise((res) => setTimeout(res, 250));
    }
    await fast.until(() => fast.accepted().flatMap(eventsOf).length >= 40, 20_000, 'fast sink got 40');
    await fastOther.until(() => fastOther.accepted().flatMap(eventsOf).length >= 40, 20_000, 'other sink got 40');
    // Each fast event arrived well within a second of its commit, while the slow sink had had at
    // most one answer (2 s each, one batch in flight per sink).
    for (const rcv of [fast, fastOther])
      for (const q of rcv.accepted())
        for (const e of eventsOf(q)) expect(q.at - emittedAt.get(e.id)!).toBeLessThan(1_000);
    expect(slow.accepted().length).toBeLessThanOrEqual(1);
    await slow.until(() => slow.accepted().flatMap(eventsOf).length >= 40, 30_000, 'slow sink got 40');
    expect(
      slow
        .accepted()
        .flatMap(eventsOf)
        .map((e) => e.data.i),
    ).toEqual([...Array(40).keys()]);
    // One request at a time: each answered 2 s after the previous one.
    const at = slow.accepted().map((q) => q.at);
    for (let i = 1; i < at.length; i++) expect(at[i]! - at[i - 1]!).toBeGreaterThanOrEqual(1_900);
  }, 60_000);

  it('a sink that does not answer holds at most its memory bound: the rest is parked as deliveries rows', async () => {
    const tn = t[4]!;
    const r = await receiver(() => 'hang');
    const s = await sink(tn.id, r.url, { maxEvents: 10, maxWaitMs: 0 });
    r.setSecrets([s.secret]);
    const session = crypto.randomUUID();
    // Bound: max(2 × 10, 5,000) events in memory.
    for (let k = 0; k < 7; k++) await emitTogether(tn.id, [session], 1_000, k * 1_000);
    const pending = await waitFor(
      async () => {
        const n = await withTenant(db, tn.id, (tx) =>
          tx.delivery.count({ where: { sinkId: s.sink.id, status: 'PENDING' } }),
        );
        return n >= 7_000 - 10 ? n : undefined;
      },
      { timeoutMs: 60_000, what: 'all but the batch on the wire parked' },
    );
    expect(pending).toBe(7_000 - 10);
    // The journal holds only the unanswered batch.
    const journal = await journalOf(tn.id, s.sink.id);
    expect(new Set(journal.map((p) => p.batch_id))).toEqual(new Set([r.all[0]!.id]));
    expect(journal.flatMap((p) => p.event_ids)).toEqual(eventsOf(r.all[0]!).map((e) => e.id));
    expect(r.all).toHaveLength(1);
  }, 90_000);

  it("the journal is tenant-isolated: another tenant can neither read nor write a tenant's rows; a deleted sink takes its rows", async () => {
    const [a, b] = [t[5]!, t[3]!];
    const r = await receiver(() => 'hang');
    const s = await sink(a.id, r.url, { maxEvents: 10, maxWaitMs: 0 });
    r.setSecrets([s.secret]);
    await emitTogether(a.id, [crypto.randomUUID()], 3);
    await waitFor(async () => (await journalOf(a.id, s.sink.id)).length === 1, { what: "a's journal row" });
    // Tenant B, by sink id and without a filter: nothing to read, update or delete.
    expect(await journalOf(b.id, s.sink.id)).toEqual([]);
    await withRaw(db, b.id, async (c) => {
      expect((await c.query('SELECT 1 FROM webhook_batch_parts')).rowCount).toBe(0);
      expect(
        (await c.query(`UPDATE webhook_batch_parts SET owner = 'b' WHERE sink_id = $1`, [s.sink.id])).rowCount,
      ).toBe(0);
      expect((await c.query('DELETE FROM webhook_batch_parts WHERE sink_id = $1', [s.sink.id])).rowCount).toBe(0);
    });
    // …nor write a row for tenant A (WITH CHECK).
    await expect(
      withRaw(db, b.id, (c) =>
        c.query(
          `INSERT INTO webhook_batch_parts (tenant_id, sink_id, batch_id, part, topic, event_ids, types, ordering_keys,
                                            payloads, seqs, owner, lease_until, created_at)
           VALUES ($1, $2, gen_random_uuid(), 0, 'LOCATION_UPDATES', '{}', '{}', '{}', '{}', '{}', 'b', now(), now())`,
          [a.id, s.sink.id],
        ),
      ),
    ).rejects.toThrow(/row-level security/);
    expect(await journalOf(a.id, s.sink.id)).toHaveLength(1);
    await withTenant(db, a.id, (tx) => tx.streamSink.delete({ where: { id: s.sink.id } }));
    expect(await journalOf(a.id, s.sink.id)).toEqual([]);
  });
});
