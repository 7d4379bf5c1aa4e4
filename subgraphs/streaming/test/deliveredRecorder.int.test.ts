/**
 * Successes are recorded together (app_deliveries_delivered): records that arrive while a statement
 * runs share the next one; each caller resolves once its rows are DELIVERED; a row that is no
 * longer PENDING is left alone; an id paired with another tenant changes nothing (the function
 * bypasses RLS, so it must match the tenant itself).
 */
import { randomUUID } from 'node:crypto';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createDb, rawPool, withTenant, type Db } from '@lt/db';
import { Cleanup, createTestTenant, testEnv } from '@lt/testing';
import { createDeliveredRecorder } from '../src/delivery/deliveredRecorder';
import { createSink, testSecretKey } from './support/fixtures';

const cleanup = new Cleanup();
let db: Db;
beforeAll(() => {
  db = createDb({ url: testEnv().databaseUrl });
  cleanup.add(() => db.$disconnect());
});
afterAll(() => cleanup.run());

async function pending(tenantId: string, sinkId: string, n: number, status: 'PENDING' | 'DEAD' = 'PENDING') {
  return withTenant(db, tenantId, async (tx) => {
    const ids: string[] = [];
    for (let i = 0; i < n; i++) {
      const eventId = randomUUID();
      const d = await tx.delivery.create({
        data: {
          tenantId,
          sinkId,
          eventId,
          topic: 'session-events',
          type: 'session.started.v1',
          payload: { id: eventId },
          orderingKey: `${tenantId}:s`,
          status,
        },
      });
      ids.push(d.id);
    }
    return ids;
  });
}

const statusOf = (tenantId: string, ids: string[]) =>
  withTenant(db, tenantId, (tx) =>
    tx.delivery.findMany({ where: { id: { in: ids } }, select: { id: true, status: true, attempts: true } }),
  );

describe('delivered recorder', () => {
  it('records concurrent successes in fewer statements, each resolved once its rows are DELIVERED', async () => {
    const t = await createTestTenant(db, 'rec');
    const { sink } = await createSink(db, testSecretKey(), t.id, 'http://127.0.0.1:9/x', ['SESSION_EVENTS']);
    const ids = await pending(t.id, sink.id, 20);
    const [dead] = await pending(t.id, sink.id, 1, 'DEAD');
    await withTenant(db, t.id, (tx) =>
      tx.streamSink.update({ where: { id: sink.id }, data: { failingSince: new Date() } }),
    );
    // Count the statements the recorder sends through the raw pool.
    const pool = rawPool(db);
    const query = pool.query.bind(pool);
    let statements = 0;
    pool.query = ((...args: Parameters<typeof pool.query>) => {
      statements++;
      return query(...args);
    }) as typeof pool.query;
    cleanup.add(() => void (pool.query = query));
    const recorder = createDeliveredRecorder(db);
    await Promise.all(
      [...ids, dead!].map(async (deliveryId) => {
        await recorder.record([{ deliveryId, tenantId: t.id, status: 204, body: 'ok' }]);
        // Resolved only once the row is recorded.
        const [row] = await statusOf(t.id, [deliveryId]);
        expect(row!.status).toBe(deliveryId === dead ? 'DEAD' : 'DELIVERED');
      }),
    );
    pool.query = query;
    expect(statements).toBeGreaterThan(0);
    expect(statements).toBeLessThan(ids.length + 1);
    const rows = await statusOf(t.id, ids);
    expect(rows.every((r) => r.status === 'DELIVERED' && r.attempts === 1)).toBe(true);
    const [deadRow] = await statusOf(t.id, [dead!]);
    expect(deadRow).toMatchObject({ status: 'DEAD', attempts: 0 });
    // The sink's failure window is closed by a success.
    const s = await withTenant(db, t.id, (tx) => tx.streamSink.findUnique({ where: { id: sink.id } }));
    expect(s!.failingSince).toBeNull();
  });

  it("leaves another tenant's delivery alone when the tenant does not match", async () => {
    const [a, b] = [await createTestTenant(db, 'rec-a'), await createTestTenant(db, 'rec-b')];
    const { sink } = await createSink(db, testSecretKey(), a.id, 'http://127.0.0.1:9/x', ['SESSION_EVENTS']);
    const [id] = await pending(a.id, sink.id, 1);
    await createDeliveredRecorder(db).record([{ deliveryId: id!, tenantId: b.id, status: 200, body: '' }]);
    const [row] = await statusOf(a.id, [id!]);
    expect(row).toMatchObject({ status: 'PENDING', attempts: 0 });
  });
});
