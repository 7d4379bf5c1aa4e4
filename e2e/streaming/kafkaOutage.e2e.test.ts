import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createDb, withTenant, type Db } from '@lt/db';
import {
  Cleanup,
  createTestTenant,
  uniqueName,
  testEnv,
  unsentOutboxCount,
  unsentOutboxIds,
  waitFor,
} from '@lt/testing';
import { gql } from '../support/graphql';
import { bearer, createUserWithToken, startAuthedStack, type AuthedStack, type TestUser } from '../support/identity';
import { startReceiver } from '@lt/subgraph-streaming/testing';
import { createThrowawayKafka, type ThrowawayKafka } from './throwawayKafka';

// Fault test: the broker goes away while points are being recorded and comes back.
// Every event must reach the webhook; duplicates may only be repeats of the same webhook-id.
const cleanup = new Cleanup();
let kafka: ThrowawayKafka;
let stack: AuthedStack;
let db: Db;
let admin: TestUser;
let member: TestUser;
let tenantId: string;

beforeAll(async () => {
  kafka = await createThrowawayKafka();
  cleanup.add(() => kafka.destroy());
  await kafka.start();
  db = createDb({ url: testEnv().databaseUrl });
  cleanup.add(() => db.$disconnect());
  tenantId = (await createTestTenant(db, 'outage')).id;
  stack = await startAuthedStack({
    streaming: {
      kafka: {
        brokers: kafka.brokers,
        groupId: uniqueName('outage'),
        topicPrefix: uniqueName('outage') + '.',
        tenantIds: [tenantId],
        relayPollIntervalMs: 20,
        dispatcherPollIntervalMs: 50,
        delivery: { retryScheduleMs: [50, 100, 200, 400, 800], attemptTimeoutMs: 2_000 },
      },
    },
  });
  cleanup.add(() => stack.stop());
  admin = await createUserWithToken(stack, { role: 'TENANT_ADMIN', tenantId });
  member = await createUserWithToken(stack, { role: 'MEMBER', tenantId });
}, 120_000);
afterAll(() => cleanup.run());

describe('Kafka outage', () => {
  it('loses nothing: points recorded while the broker is down are delivered once it is back', async () => {
    const receiver = await startReceiver();
    cleanup.add(() => receiver.stop());
    const created = await gql<{ createStreamSink: { secret: string; sink: { id: string } } }>(
      stack.routerUrl,
      `mutation($input: CreateStreamSinkInput!) { createStreamSink(input: $input) { secret sink { id } } }`,
      { input: { name: 'outage', url: receiver.url, topics: ['LOCATION_UPDATES', 'SESSION_EVENTS'] } },
      bearer(admin),
    );
    expect(created.errors).toBeUndefined();
    receiver.setSecrets([created.data!.createStreamSink.secret]);

    const started = await gql<{ startLocationSession: { id: string } }>(
      stack.routerUrl,
      `mutation { startLocationSession(input: { deviceId: "outage" }) { id } }`,
      {},
      bearer(member),
    );
    const sessionId = started.data!.startLocationSession.id;
    let last = 0;
    const record = async (n: number) => {
      for (let i = 0; i < n; i++) {
        const r = await gql(
          stack.routerUrl,
          `mutation($s: ID!, $at: DateTime!) { recordLocation(sessionId: $s, location: { latitude: 1, longitude: 2, recordedAt: $at }) { id } }`,
          { s: sessionId, at: new Date((last = Math.max(Date.now(), last + 1))).toISOString() },
          bearer(member),
        );
        expect(r.errors).toBeUndefined();
      }
    };

    await record(5);
    await receiver.until(() => receiver.accepted().length >= 1, 30_000, 'first delivery before the outage');
    await kafka.stop();
    const outageFrom = new Date();
    await record(10); // the API keeps working while Kafka is down: events wait in the outbox
    // ...really in the outbox: all ten rows of the outage are there and unsent before the broker returns.
    const during = await withTenant(db, tenantId, (tx) =>
      tx.outbox.findMany({ where: { createdAt: { gte: outageFrom } }, select: { id: true } }),
    );
    const unsent = new Set(await unsentOutboxIds(db, tenantId));
    expect(during.map((r) => unsent.has(r.id))).toEqual(Array(10).fill(true));
    await kafka.start();
    await record(5);

    const expected = await withTenant(db, tenantId, (tx) => tx.outbox.findMany({ select: { id: true } }));
    expect(expected).toHaveLength(21); // session started + 20 points
    const want = new Set(expected.map((e) => e.id));
    await receiver.until(
      () => new Set(receiver.accepted().map((r) => r.id)).size === want.size,
      60_000,
      'every event delivered after the outage',
    );
    expect(new Set(receiver.accepted().map((r) => r.id))).toEqual(want);
    expect(receiver.all.every((r) => r.verified)).toBe(true);
    // Per-session order: the points' first arrivals are in recording order.
    const seen = new Set<string>();
    const recordedAts = receiver
      .accepted()
      .filter((r) => r.body.type === 'location.recorded.v1' && !seen.has(r.id) && seen.add(r.id))
      .map((r) => String(r.body.data['recordedAt']));
    expect(recordedAts).toHaveLength(20);
    expect(recordedAts).toEqual([...recordedAts].sort());
    await waitFor(async () => (await unsentOutboxCount(db, tenantId)) === 0);
  });
});
