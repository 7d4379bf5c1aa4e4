/**
 * A delivery attempt that hits a database error (here: recording its success) gives its lease
 * back: the delivery is retried, with the same webhook-id, about a second later instead of when
 * the lease (here two minutes) would run out.
 */
import { randomUUID } from 'node:crypto';
import { afterAll, describe, expect, it } from 'vitest';
import { createDb, withTenant } from '@lt/db';
import { createLogger } from '@lt/logger';
import { Cleanup, createTestTenant, testEnv, waitFor } from '@lt/testing';
import { createDeliveredRecorder, type DeliveredRecorder } from '../src/delivery/deliveredRecorder';
import { createDispatcher } from '../src/delivery/dispatcher';
import { defaultDeliveryPolicy } from '../src/delivery/schedule';
import { createSink, testSecretKey } from './support/fixtures';
import { startReceiver } from './support/receiver';

const cleanup = new Cleanup();
afterAll(() => cleanup.run());

describe('a database error during an attempt', () => {
  it('releases the lease: the delivery is made long before the lease would expire', async () => {
    const db = createDb({ url: testEnv().databaseUrl });
    cleanup.add(() => db.$disconnect());
    const tenant = await createTestTenant(db, 'lease');
    const key = testSecretKey();
    const receiver = await startReceiver(() => 200);
    cleanup.add(() => receiver.stop());
    const { sink, secret } = await createSink(db, key, tenant.id, receiver.url, ['SESSION_EVENTS']);
    receiver.setSecrets([secret]);
    const eventId = randomUUID();
    const payload = {
      id: eventId,
      type: 'session.started.v1',
      tenantId: tenant.id,
      occurredAt: new Date().toISOString(),
      data: {},
    };
    await withTenant(db, tenant.id, (tx) =>
      tx.delivery.create({
        data: {
          tenantId: tenant.id,
          sinkId: sink.id,
          eventId,
          topic: 'session-events',
          type: 'session.started.v1',
          payload,
          orderingKey: `${tenant.id}:s1`,
        },
      }),
    );

    // Recording the first success fails as a dropped connection would; every later one reaches
    // the real database.
    const real = createDeliveredRecorder(db);
    let failed = 0;
    const recorder: DeliveredRecorder = {
      record: (rows) => {
        if (failed === 0) {
          failed++;
          return Promise.reject(new Error('Connection terminated unexpectedly'));
        }
        return real.record(rows);
      },
    };
    const dispatcher = createDispatcher({
      db,
      recorder,
      log: createLogger({ level: 'silent' }),
      secretKey: key,
      urlPolicy: { allowLoopback: true },
      // Lease = 2 × attempt timeout + 5 s ≈ 2 minutes: far beyond the wait below.
      policy: { ...defaultDeliveryPolicy, attemptTimeoutMs: 60_000 },
      pollIntervalMs: 50,
      tenantIds: [tenant.id],
    });
    dispatcher.start();
    cleanup.add(() => dispatcher.stop());

    await waitFor(() => receiver.all.some((r) => r.id === eventId), { timeoutMs: 15_000, what: 'the webhook' });
    // Recorded DELIVERED after the retry the released lease allowed, same webhook-id.
    await waitFor(
      async () =>
        (await withTenant(db, tenant.id, (tx) => tx.delivery.findFirst({ where: { eventId } })))?.status ===
        'DELIVERED',
      { timeoutMs: 15_000, what: 'the delivery recorded DELIVERED' },
    );
    expect(failed).toBe(1);
    expect(receiver.all.filter((r) => r.id === eventId).length).toBeGreaterThanOrEqual(2);
  });
});
