import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createDb, withTenant, type Db } from '@lt/db';
import { appendOutbox, Topic } from '@lt/events';
import { createLogger } from '@lt/logger';
import { Cleanup, createTestTenant, freePort, testEnv, uniqueName, unsentOutboxCount, waitFor } from '@lt/testing';
import { createKafkaEventLog, createMemoryEventLog, type EventLog } from '../src/eventLog';
import { topicNames } from '../src/kafka/client';
import { createOutboxRelay } from '../src/relay/outboxRelay';
import { collectTopics } from './support/logCollector';

const log = createLogger({ level: 'silent' });
const cleanup = new Cleanup();
let db: Db;

beforeAll(async () => {
  db = createDb({ url: testEnv().databaseUrl });
  cleanup.add(() => db.$disconnect());
});
afterAll(() => cleanup.run());

const implementations: { name: string; create: (clientId: string) => EventLog }[] = [
  { name: 'kafka', create: (clientId) => createKafkaEventLog({ brokers: testEnv().kafkaBrokers, clientId, log }) },
  { name: 'memory', create: () => createMemoryEventLog({ log }) },
];

async function setup(prefix: string, create = implementations[0]!.create) {
  const names = topicNames(prefix);
  const eventLog = create(prefix);
  cleanup.add(() => eventLog.stop());
  const all = [Topic.LOCATION_UPDATES, Topic.SESSION_EVENTS, Topic.TENANT_EVENTS].map(names.of);
  await eventLog.ensureTopics(all);
  const collector = await collectTopics(eventLog, all);
  cleanup.add(() => collector.stop());
  return { names, eventLog, collector };
}

/** Writes `n` location events of one session (data.i = 0..n-1) in separate transactions. */
async function writePoints(tenantId: string, sessionId: string, n: number, from = 0) {
  for (let i = from; i < from + n; i++) {
    await withTenant(db, tenantId, (tx) =>
      appendOutbox(tx, [
        { topic: Topic.LOCATION_UPDATES, type: 'location.recorded.v1', tenantId, entityId: sessionId, data: { i } },
      ]),
    );
  }
}

const unsentCount = (tenantId: string) => unsentOutboxCount(db, tenantId);

function expectOrdered(
  values: { key: string; value: { type: string; data: Record<string, unknown> } }[],
  key: string,
  n: number,
) {
  const seen = values
    .filter((m) => m.key === key && m.value.type === 'location.recorded.v1')
    .map((m) => m.value.data['i']);
  expect(seen).toEqual(Array.from({ length: n }, (_, i) => i));
}

describe.each(implementations)('outbox relay on $name', ({ create }) => {
  it('publishes every row once, in order per key, to the right topics, and marks them sent', async () => {
    const prefix = uniqueName('relay') + '.';
    const { names, eventLog, collector } = await setup(prefix, create);
    // Fresh tenants: each relay is scoped to its tenants, and the other run's relay is still up.
    const [a, b] = [await createTestTenant(db, 'relay-a'), await createTestTenant(db, 'relay-b')];
    const s1 = crypto.randomUUID();
    const s2 = crypto.randomUUID();
    await writePoints(a.id, s1, 15);
    await writePoints(b.id, s2, 5);
    await withTenant(db, b.id, (tx) =>
      appendOutbox(tx, [
        { topic: Topic.SESSION_EVENTS, type: 'session.started.v1', tenantId: b.id, entityId: s2, data: {} },
        { topic: Topic.TENANT_EVENTS, type: 'tenant.updated.v1', tenantId: b.id, data: {} },
      ]),
    );
    const relay = createOutboxRelay({ db, eventLog, topics: names, log, tenantIds: [a.id, b.id], batchSize: 7 });
    relay.start();
    cleanup.add(() => relay.stop());
    await collector.waitForCount(22);
    expectOrdered(collector.messages, `${a.id}:${s1}`, 15);
    expectOrdered(collector.messages, `${b.id}:${s2}`, 5);
    expect(new Set(collector.messages.map((m) => m.value.id)).size).toBe(22);
    const tenantEvent = collector.messages.find((m) => m.value.type === 'tenant.updated.v1')!;
    expect(tenantEvent.topic).toBe(names.of(Topic.TENANT_EVENTS));
    expect(tenantEvent.key).toBe(b.id);
    expect(tenantEvent.headers['tenant-id']).toBe(b.id);
    // Marked sent in the same transaction, committed right after the publish.
    await waitFor(async () => (await unsentCount(a.id)) === 0 && (await unsentCount(b.id)) === 0, {
      what: 'rows marked sent',
    });
  });

  it('publishes a row that commits late, below the seq of batches already sent (read-ahead skips only the batch in flight)', async () => {
    const prefix = uniqueName('relayl') + '.';
    const { names, eventLog, collector } = await setup(prefix, create);
    const t = await createTestTenant(db, 'relay-late');
    const late = crypto.randomUUID();
    const s = crypto.randomUUID();
    await writePoints(t.id, s, 10);
    let release!: () => void;
    const gate = new Promise<void>((r) => (release = r));
    let inserted!: () => void;
    const insertedP = new Promise<void>((r) => (inserted = r));
    // Takes its seq now, commits only after the rows written after it were published.
    const lateTx = withTenant(
      db,
      t.id,
      async (tx) => {
        await appendOutbox(tx, [
          {
            topic: Topic.LOCATION_UPDATES,
            type: 'location.recorded.v1',
            tenantId: t.id,
            entityId: late,
            data: { i: 0 },
          },
        ]);
        inserted();
        await gate;
      },
      { timeoutMs: 60_000 },
    );
    await insertedP;
    // Its seq lies inside the range of the batches that follow (batches of 4 of these 23 rows).
    await writePoints(t.id, s, 13, 10);
    const relay = createOutboxRelay({ db, eventLog, topics: names, log, tenantIds: [t.id], batchSize: 4 });
    relay.start();
    cleanup.add(() => relay.stop());
    await collector.waitForCount(23);
    release();
    await lateTx;
    await collector.waitForCount(24);
    expectOrdered(collector.messages, `${t.id}:${s}`, 23);
    const lateEvent = collector.messages.find((m) => m.key === `${t.id}:${late}`)!;
    expect(lateEvent.value.data).toEqual({ i: 0 });
    // The envelope as consumers read it: ISO time with milliseconds, tenant, versioned type.
    expect(lateEvent.value).toMatchObject({ tenantId: t.id, type: 'location.recorded.v1' });
    const occurredAt = (lateEvent.value as unknown as { occurredAt: string }).occurredAt;
    expect(new Date(occurredAt).toISOString()).toBe(occurredAt);
    await waitFor(async () => (await unsentCount(t.id)) === 0, { what: 'rows marked sent' });
  });

  it('two relays on the same outbox never publish a row twice and keep per-key order', async () => {
    const prefix = uniqueName('relay2') + '.';
    const { names, eventLog, collector } = await setup(prefix, create);
    const tenants = await Promise.all([createTestTenant(db, 'r2a'), createTestTenant(db, 'r2b')]);
    const ids = tenants.map((t) => t.id);
    const opts = { db, eventLog, topics: names, log, tenantIds: ids, batchSize: 5, pollIntervalMs: 10 };
    const r1 = createOutboxRelay(opts);
    const r2 = createOutboxRelay(opts);
    r1.start();
    r2.start();
    cleanup.add(() => r1.stop());
    cleanup.add(() => r2.stop());
    const sessions = [crypto.randomUUID(), crypto.randomUUID()];
    await Promise.all([writePoints(ids[0]!, sessions[0]!, 30), writePoints(ids[1]!, sessions[1]!, 30)]);
    await collector.waitForCount(60);
    expect(new Set(collector.messages.map((m) => m.value.id)).size).toBe(60);
    expect(collector.messages).toHaveLength(60);
    expectOrdered(collector.messages, `${ids[0]}:${sessions[0]}`, 30);
    expectOrdered(collector.messages, `${ids[1]}:${sessions[1]}`, 30);
  });
});

describe('outbox relay on kafka', () => {
  it('keeps rows while Kafka is unreachable and drains them once it is back (nothing lost)', async () => {
    const prefix = uniqueName('relay3') + '.';
    const { names, eventLog, collector } = await setup(prefix);
    const t = await createTestTenant(db, 'r3');
    // A port with nothing listening: the relay's "Kafka is down".
    const closedPort = await freePort();
    const downKafka = createKafkaEventLog({
      brokers: [`127.0.0.1:${closedPort}`],
      clientId: prefix,
      log,
      retry: { retries: 0, initialRetryTime: 50 },
      connectionTimeoutMs: 300,
    });
    cleanup.add(() => downKafka.stop());
    const down = createOutboxRelay({ db, eventLog: downKafka, topics: names, log, tenantIds: [t.id] });
    const session = crypto.randomUUID();
    await writePoints(t.id, session, 10);
    await expect(down.tick()).rejects.toThrow();
    await writePoints(t.id, session, 10, 10); // writes keep succeeding while Kafka is down
    expect(await unsentCount(t.id)).toBe(20);
    await down.stop();

    const up = createOutboxRelay({ db, eventLog, topics: names, log, tenantIds: [t.id] });
    up.start();
    cleanup.add(() => up.stop());
    await collector.waitForCount(20);
    expectOrdered(collector.messages, `${t.id}:${session}`, 20);
    await waitFor(async () => (await unsentCount(t.id)) === 0, { what: 'backlog drained' });
  });
});

describe('outbox relay polling', () => {
  it('polls at the busy interval for the active window after a row, then at the idle interval', async () => {
    const prefix = uniqueName('relayp') + '.';
    const { names, eventLog, collector } = await setup(prefix, implementations[1]!.create);
    const t = await createTestTenant(db, 'relay-poll');
    const s = crypto.randomUUID();
    await writePoints(t.id, s, 1);
    const relay = createOutboxRelay({
      db,
      eventLog,
      topics: names,
      log,
      tenantIds: [t.id],
      pollIntervalMs: 5_000,
      busyPollIntervalMs: 20,
      activeWindowMs: 2_000,
    });
    relay.start();
    cleanup.add(() => relay.stop());
    await collector.waitForCount(1);
    // A row committed inside the window goes out at the busy pace, not after the 5 s idle pause.
    await new Promise((r) => setTimeout(r, 300));
    const written = Date.now();
    await writePoints(t.id, s, 1, 1);
    await collector.waitForCount(2, 1_500);
    expect(Date.now() - written).toBeLessThan(1_500);
    expectOrdered(collector.messages, `${t.id}:${s}`, 2);
    // Past the window with nothing to publish: one poll per idle interval at most.
    await new Promise((r) => setTimeout(r, 2_500));
    const polls = relay.polls;
    await new Promise((r) => setTimeout(r, 2_000));
    expect(relay.polls - polls).toBeLessThanOrEqual(1);
  });
});
