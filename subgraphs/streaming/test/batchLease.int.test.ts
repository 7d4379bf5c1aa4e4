/**
 * Leasing a batch writes only its head row (app_delivery_batches_take): the batch id and member
 * ids are on the head, the other rows are untouched until the outcome is recorded; the sink has
 * one batch at a time; a batch whose lease ran out comes back as exactly that batch (same id, same
 * events, none parked since); a success marks every member DELIVERED under the batch id in one
 * statement (app_delivery_batch_delivered) and changes nothing when the tenant does not match; the
 * lease only sees the tenants it is given.
 */
import { randomUUID } from 'node:crypto';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createDb, withTenant, type Db } from '@lt/db';
import { Cleanup, createTestTenant, testEnv } from '@lt/testing';
import { rawQuery } from '../src/data/raw';
import { createSink, testSecretKey } from './support/fixtures';

const cleanup = new Cleanup();
let db: Db;
beforeAll(() => {
  db = createDb({ url: testEnv().databaseUrl });
  cleanup.add(() => db.$disconnect());
});
afterAll(() => cleanup.run());

interface Taken {
  tenant_id: string;
  sink_id: string;
  batch_id: string;
  attempts: number;
  delivery_ids: string;
  events: string;
}

const take = (tenantIds: string[], leaseMs = 60_000) =>
  rawQuery<Taken>(db, 'SELECT * FROM app_delivery_batches_take(10, $1, $2::uuid[])', [leaseMs, tenantIds]);
const delivered = (tenantId: string, batchId: string, ids: string[]) =>
  rawQuery<{ n: number }>(db, 'SELECT app_delivery_batch_delivered($1::uuid, $2::uuid, $3::uuid[], 200, $4) AS n', [
    tenantId,
    batchId,
    ids,
    'ok',
  ]).then(([r]) => r!.n);
const idsOf = (t: Taken) => t.delivery_ids.slice(1, -1).split(',');

async function batchedSink(tenantId: string, maxEvents: number) {
  const { sink } = await createSink(db, testSecretKey(), tenantId, 'http://127.0.0.1:9/x', ['LOCATION_UPDATES']);
  await withTenant(db, tenantId, (tx) =>
    tx.streamSink.update({ where: { id: sink.id }, data: { batchMaxEvents: maxEvents, batchMaxWaitMs: 0 } }),
  );
  return sink;
}

/** `n` PENDING deliveries of the sink, one transaction each (so seq follows the order). */
async function park(tenantId: string, sinkId: string, n: number) {
  const ids: string[] = [];
  for (let i = 0; i < n; i++) {
    const eventId = randomUUID();
    const d = await withTenant(db, tenantId, (tx) =>
      tx.delivery.create({
        data: {
          tenantId,
          sinkId,
          eventId,
          topic: 'location-updates',
          type: 'location.recorded.v1',
          payload: { id: eventId, i },
          orderingKey: `${tenantId}:s`,
        },
      }),
    );
    ids.push(d.id);
  }
  return ids;
}

const rowsOf = (tenantId: string, ids: string[]) =>
  withTenant(db, tenantId, (tx) =>
    tx.delivery.findMany({
      where: { id: { in: ids } },
      orderBy: { seq: 'asc' },
      select: { id: true, status: true, attempts: true, batchId: true },
    }),
  );

describe('batch lease', () => {
  it('writes only the head row; one batch per sink at a time; a success records every member', async () => {
    const t = await createTestTenant(db, 'take');
    const sink = await batchedSink(t.id, 5);
    const ids = await park(t.id, sink.id, 7);

    const [first, ...more] = await take([t.id]);
    expect(more).toEqual([]);
    expect(first).toMatchObject({ tenant_id: t.id, sink_id: sink.id, attempts: 0 });
    expect(idsOf(first!)).toEqual(ids.slice(0, 5));
    expect((JSON.parse(first!.events) as { i: number }[]).map((e) => e.i)).toEqual([0, 1, 2, 3, 4]);
    // Only the head carries the batch id while the batch is in flight.
    expect((await rowsOf(t.id, ids)).map((r) => r.batchId)).toEqual([first!.batch_id, ...Array(6).fill(null)]);
    // The leased head blocks the sink: no second batch while the first is out.
    expect(await take([t.id])).toEqual([]);

    // Another tenant's id changes nothing (the function bypasses RLS and must match it).
    const other = await createTestTenant(db, 'take-other');
    expect(await delivered(other.id, first!.batch_id, idsOf(first!))).toBe(0);
    expect(await delivered(t.id, first!.batch_id, idsOf(first!))).toBe(5);
    const rows = await rowsOf(t.id, ids);
    expect(rows.map((r) => [r.status, r.attempts, r.batchId])).toEqual([
      ...Array(5).fill(['DELIVERED', 1, first!.batch_id]),
      ['PENDING', 0, null],
      ['PENDING', 0, null],
    ]);

    const [second] = await take([t.id]);
    expect(idsOf(second!)).toEqual(ids.slice(5));
    expect(second!.batch_id).not.toBe(first!.batch_id);
  });

  it('a batch whose lease ran out comes back as exactly that batch, without the rows parked since', async () => {
    const t = await createTestTenant(db, 'take-retry');
    const sink = await batchedSink(t.id, 10);
    const ids = await park(t.id, sink.id, 3);
    const [a] = await take([t.id], 1);
    expect(idsOf(a!)).toEqual(ids);
    await park(t.id, sink.id, 2);
    await new Promise((r) => setTimeout(r, 20));
    const [again, ...more] = await take([t.id]);
    expect(more).toEqual([]);
    expect(again).toMatchObject({ batch_id: a!.batch_id, delivery_ids: a!.delivery_ids, events: a!.events });
  });

  it("sees only the tenants it is given: another tenant's lease never takes this sink's batch", async () => {
    const [t, other] = [await createTestTenant(db, 'take-a'), await createTestTenant(db, 'take-b')];
    const sink = await batchedSink(t.id, 10);
    const ids = await park(t.id, sink.id, 2);
    expect(await take([other.id])).toEqual([]);
    expect((await rowsOf(t.id, ids)).map((r) => r.batchId)).toEqual([null, null]);
    const [mine] = await take([t.id]);
    expect(idsOf(mine!)).toEqual(ids);
  });
});
