/**
 * What `npm start` runs with nothing installed: the pipeline on the memory event log over the
 * embedded Postgres, which serialises transactions. The relay keeps its claim transaction open
 * while it sends, so this only works because `send` never waits for the consumers.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createDb, withTenant, type Db } from '@lt/db';
import { startEmbeddedPostgres, type EmbeddedPostgres } from '@lt/embedded';
import { Topic } from '@lt/events';
import { createLogger } from '@lt/logger';
import { Cleanup, createTestTenant, uniqueName, unsentOutboxCount, waitFor } from '@lt/testing';
import { createMemoryEventLog } from '../src/eventLog';
import { startStreamingPipeline, type StreamingPipeline } from '../src/pipeline';
import { createSink, emit, testSecretKey } from './support/fixtures';
import { startReceiver } from './support/receiver';

const log = createLogger({ level: 'silent' });
const cleanup = new Cleanup();
const key = testSecretKey();
let pg: EmbeddedPostgres;
let db: Db;
let pipeline: StreamingPipeline;

beforeAll(async () => {
  pg = await startEmbeddedPostgres();
  cleanup.add(() => pg.stop());
  db = createDb({ url: pg.appUrl });
  cleanup.add(() => db.$disconnect());
  const eventLog = createMemoryEventLog({ log });
  cleanup.add(() => eventLog.stop());
  pipeline = await startStreamingPipeline({
    db,
    log,
    eventLog,
    groupId: uniqueName('embedded'),
    secretKey: key,
    urlPolicy: { allowLoopback: true },
    delivery: { retryScheduleMs: [30, 60], attemptTimeoutMs: 1_000 },
    relayPollIntervalMs: 20,
    dispatcherPollIntervalMs: 50,
  });
  cleanup.add(() => pipeline.stop());
});
afterAll(() => cleanup.run());

describe('webhook pipeline on the memory event log and the embedded Postgres', () => {
  it("delivers all three topics, signed, to the right tenant's sinks only", async () => {
    const [a, b] = [await createTestTenant(db, 'emb-a'), await createTestTenant(db, 'emb-b')];
    const ra = await startReceiver();
    const rb = await startReceiver();
    cleanup.add(() => ra.stop());
    cleanup.add(() => rb.stop());
    const all = ['LOCATION_UPDATES', 'SESSION_EVENTS', 'TENANT_EVENTS'] as const;
    const sa = await createSink(db, key, a.id, ra.url, [...all]);
    const sb = await createSink(db, key, b.id, rb.url, [...all]);
    ra.setSecrets([sa.secret]);
    rb.setSecrets([sb.secret]);
    const session = crypto.randomUUID();
    const sent = [
      await emit(db, a.id, Topic.LOCATION_UPDATES, { i: 0 }, session),
      await emit(db, a.id, Topic.SESSION_EVENTS, { sessionId: session }, session),
      await emit(db, a.id, Topic.TENANT_EVENTS, { name: 'x' }),
    ];
    for (let i = 1; i < 10; i++) sent.push(await emit(db, a.id, Topic.LOCATION_UPDATES, { i }, session));
    const eb = await emit(db, b.id, Topic.TENANT_EVENTS, { name: 'y' });

    await ra.until(() => ra.accepted().length >= sent.length, 20_000, `${sent.length} events at tenant A`);
    await rb.until(() => rb.accepted().length >= 1, 20_000, 'tenant B event');
    expect(ra.all.every((r) => r.verified) && rb.all.every((r) => r.verified)).toBe(true);
    expect(new Set(ra.accepted().map((r) => r.id))).toEqual(new Set(sent.map((e) => e.id)));
    expect(ra.accepted()).toHaveLength(sent.length);
    expect(ra.accepted().every((r) => r.body.tenantId === a.id)).toBe(true);
    expect(rb.accepted().map((r) => r.id)).toEqual([eb.id]);
    // One session's points arrive in order.
    const points = ra.accepted().filter((r) => r.body.type === 'location.recorded.v1');
    expect(points.map((r) => r.body.data['i'])).toEqual([0, 1, 2, 3, 4, 5, 6, 7, 8, 9]);
    await waitFor(async () => (await unsentOutboxCount(db, a.id)) === 0, { what: 'outbox drained' });
    expect(await pipeline.status()).toEqual({
      brokerReachable: true,
      consumerLag: [Topic.LOCATION_UPDATES, Topic.SESSION_EVENTS, Topic.TENANT_EVENTS, Topic.GEOFENCE_EVENTS].map(
        (topic) => ({
          topic,
          lag: 0,
        }),
      ),
    });
  });

  it('events the in-process log held at the last stop (sent, never parked) are delivered after a restart', async () => {
    const c = await createTestTenant(db, 'emb-c');
    const rc = await startReceiver();
    cleanup.add(() => rc.stop());
    const sc = await createSink(db, key, c.id, rc.url, ['LOCATION_UPDATES']);
    rc.setSecrets([sc.secret]);
    const session = crypto.randomUUID();
    const lost: Awaited<ReturnType<typeof emit>>[] = [];
    for (let i = 0; i < 5; i++) lost.push(await emit(db, c.id, Topic.LOCATION_UPDATES, { i }, session));
    const parked = await emit(db, c.id, Topic.LOCATION_UPDATES, { i: 99 }, session);
    // What a stop between the relay's publish and the consumer's parking leaves: rows marked sent,
    // no processed_events row — except for one event the consumer did park before the stop.
    await withTenant(db, c.id, async (tx) => {
      await tx.outbox.updateMany({
        where: { id: { in: [...lost, parked].map((e) => e.id) } },
        data: { sentAt: new Date() },
      });
      await tx.processedEvent.create({ data: { consumer: 'webhooks', eventId: parked.id, tenantId: c.id } });
    });
    // The restarted process: a fresh in-process log.
    const eventLog = createMemoryEventLog({ log });
    cleanup.add(() => eventLog.stop());
    const restarted = await startStreamingPipeline({
      db,
      log,
      eventLog,
      groupId: uniqueName('restarted'),
      secretKey: key,
      urlPolicy: { allowLoopback: true },
      tenantIds: [c.id],
      relayPollIntervalMs: 20,
      dispatcherPollIntervalMs: 50,
    });
    cleanup.add(() => restarted.stop());
    await rc.until(() => rc.accepted().length >= 5, 20_000, 'the five lost events');
    // Settled: the consumer has taken all six republished events (no lag) and every delivery row
    // is final; nothing else can reach the receiver after this.
    await waitFor(async () => (await restarted.status()).consumerLag.every((l) => l.lag === 0), {
      what: 'the restarted consumer to catch up',
    });
    const rows = await waitFor(
      async () => {
        const d = await withTenant(db, c.id, (tx) => tx.delivery.findMany({ where: { sinkId: sc.sink.id } }));
        return d.every((x) => x.status === 'DELIVERED') ? d : undefined;
      },
      { what: 'every delivery final' },
    );
    expect(rows.map((d) => d.eventId).sort()).toEqual(lost.map((e) => e.id).sort()); // not the parked one
    expect(rc.accepted().map((r) => r.body.data['i'])).toEqual([0, 1, 2, 3, 4]);
    expect(rc.accepted().map((r) => r.id)).toEqual(lost.map((e) => e.id));
  });
});
