import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createDb, type Db } from '@lt/db';
import { createMemoryEventLog } from '@lt/subgraph-streaming';
import { Cleanup, createTestTenant, uniqueName, testEnv } from '@lt/testing';
import { gql } from '../support/graphql';
import { bearer, createUserWithToken, startAuthedStack, type AuthedStack, type TestUser } from '../support/identity';
import { startReceiver } from '@lt/subgraph-streaming/testing';

// Without KAFKA_BROKERS the stack runs the whole pipeline (outbox relay → event log →
// consumers → signed webhooks) in-process on the memory event log.
const cleanup = new Cleanup();
let stack: AuthedStack;
let db: Db;
const users: Record<'a' | 'b', { admin: TestUser; member: TestUser }> = {} as never;

beforeAll(async () => {
  db = createDb({ url: testEnv().databaseUrl });
  cleanup.add(() => db.$disconnect());
  const [a, b] = [await createTestTenant(db, 'memlog-a'), await createTestTenant(db, 'memlog-b')];
  const eventLog = createMemoryEventLog();
  cleanup.add(() => eventLog.stop());
  stack = await startAuthedStack({
    streaming: {
      eventLog,
      kafka: {
        groupId: uniqueName('memlog'),
        tenantIds: [a.id, b.id],
        relayPollIntervalMs: 20,
        dispatcherPollIntervalMs: 50,
      },
    },
  });
  cleanup.add(() => stack.stop());
  for (const [k, t] of [
    ['a', a],
    ['b', b],
  ] as const) {
    users[k] = {
      admin: await createUserWithToken(stack, { role: 'TENANT_ADMIN', tenantId: t.id }),
      member: await createUserWithToken(stack, { role: 'MEMBER', tenantId: t.id }),
    };
  }
}, 120_000);
afterAll(() => cleanup.run());

async function sinkFor(admin: TestUser) {
  const receiver = await startReceiver();
  cleanup.add(() => receiver.stop());
  const created = await gql<{ createStreamSink: { secret: string } }>(
    stack.routerUrl,
    `mutation($input: CreateStreamSinkInput!) { createStreamSink(input: $input) { secret } }`,
    { input: { name: 'memlog', url: receiver.url, topics: ['LOCATION_UPDATES', 'SESSION_EVENTS'] } },
    bearer(admin),
  );
  expect(created.errors).toBeUndefined();
  receiver.setSecrets([created.data!.createStreamSink.secret]);
  return receiver;
}

describe('streaming on the memory event log', () => {
  it("delivers a recorded point, signed, to the recording tenant's sink only", async () => {
    const [ra, rb] = [await sinkFor(users.a.admin), await sinkFor(users.b.admin)];
    const started = await gql<{ startLocationSession: { id: string } }>(
      stack.routerUrl,
      `mutation { startLocationSession(input: { deviceId: "memlog" }) { id } }`,
      {},
      bearer(users.a.member),
    );
    expect(started.errors).toBeUndefined();
    const sessionId = started.data!.startLocationSession.id;
    const recorded = await gql(
      stack.routerUrl,
      `mutation($s: ID!, $at: DateTime!) { recordLocation(sessionId: $s, location: { latitude: 1, longitude: 2, recordedAt: $at }) { id } }`,
      { s: sessionId, at: new Date().toISOString() },
      bearer(users.a.member),
    );
    expect(recorded.errors).toBeUndefined();

    await ra.until(() => ra.accepted().length >= 2, 60_000, 'session start and point at tenant A');
    expect(ra.all.every((r) => r.verified)).toBe(true);
    // Two topics: no order between them, only within a session's chain per topic.
    const byType = new Map(ra.accepted().map((r) => [r.body.type, r.body]));
    expect([...byType.keys()].sort()).toEqual(['location.recorded.v1', 'session.started.v1']);
    expect(byType.get('location.recorded.v1')!.data['sessionId']).toBe(sessionId);
    const tenantA = users.a.admin.tenantId;
    expect(ra.accepted().every((r) => r.body.tenantId === tenantA)).toBe(true);

    // Tenant B records too: its sink gets its own event, and never tenant A's.
    const other = await gql<{ startLocationSession: { id: string } }>(
      stack.routerUrl,
      `mutation { startLocationSession(input: { deviceId: "memlog-b" }) { id } }`,
      {},
      bearer(users.b.member),
    );
    expect(other.errors).toBeUndefined();
    await rb.until(() => rb.accepted().length >= 1, 20_000, 'tenant B session start');
    expect(rb.accepted().map((r) => r.body.tenantId)).toEqual([users.b.admin.tenantId]);
    expect(ra.accepted()).toHaveLength(2);

    const status = await gql<{
      streamingStatus: { brokerReachable: boolean; consumerLag: { topic: string; lag: number }[] };
    }>(stack.routerUrl, `{ streamingStatus { brokerReachable consumerLag { topic lag } } }`, {}, bearer(users.a.admin));
    expect(status.errors).toBeUndefined();
    expect(status.data!.streamingStatus.brokerReachable).toBe(true);
    // One entry per topic the consumer reads (topic names carry the stack's prefix).
    expect(status.data!.streamingStatus.consumerLag.map((l) => l.topic.split('.').at(-1)).sort()).toEqual([
      'geofence-events',
      'location-updates',
      'session-events',
      'tenant-events',
    ]);
  });
});
