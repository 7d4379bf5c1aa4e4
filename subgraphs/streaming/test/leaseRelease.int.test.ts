/**
 * A delivery attempt that hits a database error gives its lease back: the session's webhooks
 * go on about a second later instead of when the lease (here two minutes) would run out.
 */
import { randomUUID } from 'node:crypto';
import { afterAll, describe, expect, it } from 'vitest';
import { createDb, withTenant, type Db } from '@lt/db';
import { createLogger } from '@lt/logger';
import { Cleanup, createTestTenant, testEnv, waitFor } from '@lt/testing';
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

    // The first transaction after the lease (the attempt loading its delivery) fails as a dropped
    // connection would; every other one reaches the real database.
    let transactions = 0;
    let failed = 0;
    const flaky = new Proxy(db, {
      get(target, prop, receiverArg) {
        if (prop !== '$transaction') return Reflect.get(target, prop, receiverArg) as unknown;
        return (...args: unknown[]) => {
          if (++transactions === 2) {
            failed++;
            return Promise.reject(new Error('Connection terminated unexpectedly'));
          }
          return (target.$transaction as (...a: unknown[]) => Promise<unknown>)(...args);
        };
      },
    }) as Db;
    const dispatcher = createDispatcher({
      db: flaky,
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
    expect(failed).toBe(1);
    // The receiver answers before the outcome is recorded: wait for the row, not just the request.
    await waitFor(
      async () =>
        (await withTenant(db, tenant.id, (tx) => tx.delivery.findFirst({ where: { eventId } })))?.status ===
        'DELIVERED',
      { timeoutMs: 15_000, what: 'the delivery recorded DELIVERED' },
    );
  });
});
