/**
 * A sink that keeps failing past the configured window is disabled, and nothing more is
 * sent to it; a healthy sink of the same tenant keeps receiving. Runs on the in-process event log
 * (the Kafka path is the same dispatcher, covered by pipeline.int.test.ts).
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createDb, withTenant, type Db } from '@lt/db';
import { Topic } from '@lt/events';
import { createLogger } from '@lt/logger';
import { Cleanup, createTestTenant, uniqueName, testEnv, waitFor, type TestTenant } from '@lt/testing';
import { createMemoryEventLog } from '../src/eventLog';
import { startStreamingPipeline } from '../src/pipeline';
import { createSink, emit, testSecretKey } from './support/fixtures';
import { startReceiver } from './support/receiver';

const log = createLogger({ level: 'silent' });
const cleanup = new Cleanup();
const key = testSecretKey();
let db: Db;
let tenant: TestTenant;

beforeAll(async () => {
  db = createDb({ url: testEnv().databaseUrl });
  cleanup.add(() => db.$disconnect());
  tenant = await createTestTenant(db, 'disable');
  const eventLog = createMemoryEventLog({ log });
  cleanup.add(() => eventLog.stop());
  const pipeline = await startStreamingPipeline({
    db,
    log,
    eventLog,
    groupId: uniqueName('webhooks'),
    secretKey: key,
    urlPolicy: { allowLoopback: true },
    // Many quick retries, and a window much shorter than the retry budget.
    delivery: {
      retryScheduleMs: Array(20).fill(40),
      attemptTimeoutMs: 500,
      disableAfterMs: 300,
      breakerThreshold: 100,
    },
    relayPollIntervalMs: 20,
    dispatcherPollIntervalMs: 20,
    tenantIds: [tenant.id],
  });
  cleanup.add(() => pipeline.stop());
});
afterAll(() => cleanup.run());

describe('failing continuously past the window', () => {
  it('disables the sink and stops sending to it, while a healthy sink keeps receiving', async () => {
    const failing = await startReceiver(() => 503);
    cleanup.add(() => failing.stop());
    const healthy = await startReceiver(() => 200);
    cleanup.add(() => healthy.stop());
    const bad = await createSink(db, key, tenant.id, failing.url, ['SESSION_EVENTS']);
    const good = await createSink(db, key, tenant.id, healthy.url, ['SESSION_EVENTS']);
    failing.setSecrets([bad.secret]);
    healthy.setSecrets([good.secret]);

    const e = await emit(db, tenant.id, Topic.SESSION_EVENTS, { n: 1 }, crypto.randomUUID());
    const sink = await waitFor(
      async () => {
        const s = await withTenant(db, tenant.id, (tx) => tx.streamSink.findUnique({ where: { id: bad.sink.id } }));
        return s?.status === 'DISABLED' ? s : undefined;
      },
      { timeoutMs: 10_000, what: 'the failing sink to be disabled' },
    );
    expect(sink.disabledReason).toMatch(/failing continuously since/);
    const attemptsAtDisable = failing.all.length;
    expect(attemptsAtDisable).toBeGreaterThanOrEqual(2);
    expect(failing.all.every((r) => r.id === e.id)).toBe(true);

    // The healthy sink got the event once; a later event reaches it but not the disabled sink.
    await waitFor(() => healthy.all.some((r) => r.id === e.id), { what: 'the healthy sink to receive' });
    const later = await emit(db, tenant.id, Topic.SESSION_EVENTS, { n: 2 }, crypto.randomUUID());
    await waitFor(() => healthy.all.some((r) => r.id === later.id), { what: 'the later event at the healthy sink' });
    const deliveries = await withTenant(db, tenant.id, (tx) =>
      tx.delivery.findMany({ where: { sinkId: bad.sink.id } }),
    );
    expect(deliveries.map((d) => d.eventId)).toEqual([e.id]);
    expect(failing.all.length).toBe(attemptsAtDisable);
  });
});
