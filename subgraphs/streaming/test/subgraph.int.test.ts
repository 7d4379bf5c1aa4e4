import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createDb, withTenant, type Db } from '@lt/db';
import { Topic } from '@lt/events';
import { createLogger } from '@lt/logger';
import {
  Cleanup,
  createTestTenant,
  testEnv,
  uniqueName,
  unsentOutboxCount,
  waitFor,
  type TestTenant,
} from '@lt/testing';
import { createStreamingSubgraph } from '../src/createStreamingSubgraph';
import { startStreamingPipeline, type StreamingPipeline } from '../src/pipeline';
import { codeOf, fieldOf, member, subgraphClient } from './support/client';
import { emit, testSecretKey } from './support/fixtures';
import { startReceiver, type Behaviour } from './support/receiver';

const log = createLogger({ level: 'silent' });
const cleanup = new Cleanup();
const key = testSecretKey();
let db: Db;
let pipeline: StreamingPipeline;
let call: ReturnType<typeof subgraphClient>;
let a: TestTenant;
let b: TestTenant;
const adminA = () => member(a.id, 'TENANT_ADMIN');
const adminB = () => member(b.id, 'TENANT_ADMIN');

const SINK = `id name url topics status disabledReason createdAt
  stats { delivered pending failed dead lastDeliveredAt }`;
const CREATE = `mutation($input: CreateStreamSinkInput!) { createStreamSink(input: $input) { secret sink { ${SINK} } } }`;

beforeAll(async () => {
  db = createDb({ url: testEnv().databaseUrl });
  cleanup.add(() => db.$disconnect());
  a = await createTestTenant(db, 'sga');
  b = await createTestTenant(db, 'sgb');
  pipeline = await startStreamingPipeline({
    db,
    log,
    brokers: testEnv().kafkaBrokers,
    groupId: uniqueName('sg'),
    topicPrefix: uniqueName('sg') + '.',
    secretKey: key,
    urlPolicy: { allowLoopback: true },
    delivery: { retryScheduleMs: [20], attemptTimeoutMs: 1_000 },
    dispatcherPollIntervalMs: 50,
    relay: false, // the outbox backlog stays put for streamingStatus
    tenantIds: [a.id, b.id],
  });
  cleanup.add(() => pipeline.stop());
  const server = createStreamingSubgraph({
    db,
    log,
    contextSecret: testEnv().contextSecret,
    secretKey: key,
    urlPolicy: { allowLoopback: true },
    secretGraceMs: 60_000,
    pipeline,
  });
  const port = await server.start(0, '127.0.0.1');
  cleanup.add(() => server.stop());
  call = subgraphClient(`http://127.0.0.1:${port}/graphql`, testEnv().contextSecret);
});
afterAll(() => cleanup.run());

async function receiver(behaviour?: Behaviour) {
  const r = await startReceiver(behaviour);
  cleanup.add(() => r.stop());
  return r;
}

type Sink = { id: string; name: string; url: string; topics: string[]; status: string; stats: Record<string, number> };
async function createSinkVia(tenantAdmin = adminA(), url = 'http://127.0.0.1:9/hook', topics = ['LOCATION_UPDATES']) {
  const r = await call<{ createStreamSink: { secret: string; sink: Sink } }>(tenantAdmin, CREATE, {
    input: { name: 'Receiver', url, topics },
  });
  expect(r.errors).toBeUndefined();
  return r.data!.createStreamSink;
}

describe('streaming subgraph', () => {
  it('creates a sink, shows its secret once, stores it encrypted, and lists it', async () => {
    const created = await createSinkVia();
    expect(created.secret).toMatch(/^whsec_/);
    expect(created.sink).toMatchObject({ name: 'Receiver', status: 'ACTIVE', topics: ['LOCATION_UPDATES'] });
    const row = await withTenant(db, a.id, (tx) => tx.streamSink.findUnique({ where: { id: created.sink.id } }));
    expect(row!.secretEnc).not.toContain(created.secret.slice(6));
    const list = await call<{ streamSinks: Sink[] }>(adminA(), `{ streamSinks { id } }`);
    expect(list.data!.streamSinks.map((s) => s.id)).toContain(created.sink.id);
    const one = await call<{ streamSink: Sink }>(adminA(), `query($id: ID!) { streamSink(id: $id) { id name } }`, {
      id: created.sink.id,
    });
    expect(one.data!.streamSink).toEqual({ id: created.sink.id, name: 'Receiver' });
  });

  it.each([
    ['http://hooks.example.com/x', 'url'],
    ['https://169.254.169.254/latest/meta-data', 'url'],
    ['https://10.0.0.5/hook', 'url'],
    ['not a url', 'url'],
  ])('refuses sink url %s (BAD_USER_INPUT on %s)', async (url, field) => {
    const r = await call(adminA(), CREATE, { input: { name: 'x', url, topics: ['LOCATION_UPDATES'] } });
    expect(codeOf(r)).toBe('BAD_USER_INPUT');
    expect(fieldOf(r)).toBe(field);
  });

  it('validates name and topics, and only lets TENANT_ADMIN manage sinks', async () => {
    const noName = await call(adminA(), CREATE, {
      input: { name: ' ', url: 'http://127.0.0.1:9/x', topics: ['TENANT_EVENTS'] },
    });
    expect([codeOf(noName), fieldOf(noName)]).toEqual(['BAD_USER_INPUT', 'name']);
    const noTopics = await call(adminA(), CREATE, { input: { name: 'x', url: 'http://127.0.0.1:9/x', topics: [] } });
    expect([codeOf(noTopics), fieldOf(noTopics)]).toEqual(['BAD_USER_INPUT', 'topics']);
    const asMember = await call(member(a.id, 'MEMBER'), `{ streamSinks { id } }`);
    expect(codeOf(asMember)).toBe('FORBIDDEN');
    const asMemberCreate = await call(member(a.id, 'MEMBER'), CREATE, {
      input: { name: 'x', url: 'http://127.0.0.1:9/x', topics: ['TENANT_EVENTS'] },
    });
    expect(codeOf(asMemberCreate)).toBe('FORBIDDEN');
  });

  it('batch settings: set on create, changed and cleared on update, each limit refused by its field', async () => {
    const url = 'http://127.0.0.1:9/x';
    const created = await call<{ createStreamSink: { sink: { id: string; batch: unknown } } }>(
      adminA(),
      `mutation($input: CreateStreamSinkInput!) { createStreamSink(input: $input) { sink { id batch { maxEvents maxWaitMs } } } }`,
      { input: { name: 'b', url, topics: ['LOCATION_UPDATES'], batch: { maxEvents: 1000, maxWaitMs: 0 } } },
    );
    const sink = created.data!.createStreamSink.sink;
    expect(sink.batch).toEqual({ maxEvents: 1000, maxWaitMs: 0 });
    const UPDATE = `mutation($id: ID!, $input: UpdateStreamSinkInput!) { updateStreamSink(id: $id, input: $input) { batch { maxEvents maxWaitMs } } }`;
    const changed = await call<{ updateStreamSink: { batch: unknown } }>(adminA(), UPDATE, {
      id: sink.id,
      input: { batch: { maxEvents: 1, maxWaitMs: 10_000 } },
    });
    expect(changed.data!.updateStreamSink.batch).toEqual({ maxEvents: 1, maxWaitMs: 10_000 });
    // Omitted: unchanged; null: one event per request again.
    const renamed = await call<{ updateStreamSink: { batch: unknown } }>(adminA(), UPDATE, {
      id: sink.id,
      input: { name: 'renamed' },
    });
    expect(renamed.data!.updateStreamSink.batch).toEqual({ maxEvents: 1, maxWaitMs: 10_000 });
    const cleared = await call<{ updateStreamSink: { batch: unknown } }>(adminA(), UPDATE, {
      id: sink.id,
      input: { batch: null },
    });
    expect(cleared.data!.updateStreamSink.batch).toBeNull();
    const bad: [Record<string, number>, string][] = [
      [{ maxEvents: 0, maxWaitMs: 0 }, 'batch.maxEvents'],
      [{ maxEvents: 1001, maxWaitMs: 0 }, 'batch.maxEvents'],
      [{ maxEvents: 10, maxWaitMs: -1 }, 'batch.maxWaitMs'],
      [{ maxEvents: 10, maxWaitMs: 10_001 }, 'batch.maxWaitMs'],
    ];
    for (const [batch, field] of bad) {
      const c = await call(adminA(), CREATE, { input: { name: 'x', url, topics: ['TENANT_EVENTS'], batch } });
      expect([codeOf(c), fieldOf(c)], JSON.stringify(batch)).toEqual(['BAD_USER_INPUT', field]);
      const u = await call(adminA(), UPDATE, { id: sink.id, input: { batch } });
      expect([codeOf(u), fieldOf(u)], JSON.stringify(batch)).toEqual(['BAD_USER_INPUT', field]);
    }
    // Another tenant can neither read nor set a sink's batch settings.
    const foreign = await call(adminB(), UPDATE, { id: sink.id, input: { batch: { maxEvents: 5, maxWaitMs: 5 } } });
    expect(codeOf(foreign)).toBe('NOT_FOUND');
    expect(JSON.stringify(foreign.data ?? null)).not.toContain(sink.id);
    const entity = await call<{ _entities: unknown[] }>(
      adminB(),
      `query($r: [_Any!]!) { _entities(representations: $r) { ... on StreamSink { id batch { maxEvents } } } }`,
      { r: [{ __typename: 'StreamSink', id: sink.id }] },
    );
    expect(entity.data!._entities).toEqual([null]);
    const mine = await call<{ streamSink: { batch: unknown } }>(
      adminA(),
      `query($id: ID!) { streamSink(id: $id) { batch { maxEvents } } }`,
      { id: sink.id },
    );
    expect(mine.data!.streamSink.batch).toBeNull();
  });

  it('another tenant cannot see or touch a sink: NOT_FOUND on every operation, the lookup included', async () => {
    const { sink } = await createSinkVia();
    const id = sink.id;
    const lookup = await call<{ streamSink: Sink | null }>(adminB(), `query($id: ID!) { streamSink(id: $id) { id } }`, {
      id,
    });
    expect(lookup.errors?.map((e) => e.extensions)).toEqual([
      expect.objectContaining({ code: 'NOT_FOUND', field: 'id' }),
    ]);
    expect(lookup.data?.streamSink ?? null).toBeNull();
    // An id that exists nowhere answers the same (no oracle), and so does a malformed one.
    for (const other of ['00000000-0000-4000-8000-000000000000', 'not-a-uuid']) {
      const r = await call(adminB(), `query($id: ID!) { streamSink(id: $id) { id } }`, { id: other });
      expect(r.errors?.map((e) => e.extensions?.['code'])).toEqual(['NOT_FOUND']);
    }
    const list = await call<{ streamSinks: Sink[] }>(adminB(), `{ streamSinks { id } }`);
    expect(list.data!.streamSinks.map((s) => s.id)).not.toContain(id);
    const ops: [string, Record<string, unknown>][] = [
      [`mutation($id: ID!) { updateStreamSink(id: $id, input: { name: "pwned", status: PAUSED }) { id } }`, { id }],
      [`mutation($id: ID!) { deleteStreamSink(id: $id) }`, { id }],
      [`mutation($id: ID!) { rotateStreamSinkSecret(id: $id) { secret } }`, { id }],
      [`mutation($id: ID!) { sendTestEvent(sinkId: $id) { id } }`, { id }],
      [`mutation($id: ID!) { replayDeadLetters(sinkId: $id) }`, { id }],
    ];
    for (const [q, v] of ops) expect(codeOf(await call(adminB(), q, v)), q).toBe('NOT_FOUND');
    // Malformed ids answer the same as foreign ones.
    expect(codeOf(await call(adminB(), `mutation { deleteStreamSink(id: "nope") }`))).toBe('NOT_FOUND');
    // Federation entity lookups are scoped too.
    const entity = await call<{ _entities: (Sink | null)[] }>(
      adminB(),
      `query($r: [_Any!]!) { _entities(representations: $r) { ... on StreamSink { id name } } }`,
      { r: [{ __typename: 'StreamSink', id }] },
    );
    expect(entity.data!._entities).toEqual([null]);
    // Nothing changed for the owner.
    const mine = await call<{ streamSink: Sink }>(adminA(), `query($id: ID!) { streamSink(id: $id) { name status } }`, {
      id,
    });
    expect(mine.data!.streamSink).toEqual({ name: 'Receiver', status: 'ACTIVE' });
  });

  it('sendTestEvent delivers a signed test event that shows in deliveries and stats', async () => {
    const r = await receiver();
    const { sink, secret } = await createSinkVia(adminA(), r.url, ['TENANT_EVENTS']);
    r.setSecrets([secret]);
    const sent = await call<{
      sendTestEvent: { id: string; eventId: string; status: string; type: string; topic: string };
    }>(adminA(), `mutation($id: ID!) { sendTestEvent(sinkId: $id) { id eventId status type topic } }`, { id: sink.id });
    expect(sent.data!.sendTestEvent).toMatchObject({
      status: 'PENDING',
      type: 'webhook.test.v1',
      topic: 'TENANT_EVENTS',
    });
    await r.until(() => r.accepted().length === 1);
    expect(r.accepted()[0]!.id).toBe(sent.data!.sendTestEvent.eventId);
    const q = `query($id: ID!) { streamSink(id: $id) { stats { delivered pending lastDeliveredAt }
      deliveries(first: 5) { edges { node { id status attempts lastStatusCode deliveredAt } } pageInfo { hasNextPage } } } }`;
    const view = await waitFor(async () => {
      const x = await call<{
        streamSink: { stats: { delivered: number }; deliveries: { edges: { node: { status: string } }[] } };
      }>(adminA(), q, { id: sink.id });
      return x.data!.streamSink.stats.delivered === 1 ? x.data!.streamSink : undefined;
    });
    expect(view.deliveries.edges[0]!.node).toMatchObject({ status: 'DELIVERED', attempts: 1, lastStatusCode: 200 });
    // Tenant B cannot reach these deliveries through any sink id.
    const other = await call<{ streamSink: unknown }>(adminB(), q, { id: sink.id });
    expect(codeOf(other)).toBe('NOT_FOUND');
    expect(other.data?.streamSink ?? null).toBeNull();
  });

  it('rotation: the old secret keeps verifying during the grace period (both signatures sent)', async () => {
    const r = await receiver();
    const { sink, secret: oldSecret } = await createSinkVia(adminA(), r.url, ['TENANT_EVENTS']);
    const rotated = await call<{ rotateStreamSinkSecret: { secret: string } }>(
      adminA(),
      `mutation($id: ID!) { rotateStreamSinkSecret(id: $id) { secret sink { id } } }`,
      { id: sink.id },
    );
    const newSecret = rotated.data!.rotateStreamSinkSecret.secret;
    expect(newSecret).not.toBe(oldSecret);
    r.setSecrets([oldSecret]); // a receiver that has not switched yet
    await call(adminA(), `mutation($id: ID!) { sendTestEvent(sinkId: $id) { id } }`, { id: sink.id });
    await r.until(() => r.accepted().length === 1);
    r.setSecrets([newSecret]); // and one that has
    await call(adminA(), `mutation($id: ID!) { sendTestEvent(sinkId: $id) { id } }`, { id: sink.id });
    await r.until(() => r.accepted().length === 2);
    expect(String(r.accepted()[1]!.headers['webhook-signature']).split(' ')).toHaveLength(2);
  });

  it('pause holds deliveries, resume sends them; replayDeadLetters re-queues dead ones', async () => {
    let healthy = false;
    const r = await receiver(() => (healthy ? 200 : 500));
    const { sink, secret } = await createSinkVia(adminA(), r.url, ['TENANT_EVENTS']);
    r.setSecrets([secret]);
    const sendTest = () => call(adminA(), `mutation($id: ID!) { sendTestEvent(sinkId: $id) { id } }`, { id: sink.id });
    await sendTest();
    // schedule [20 ms]: two attempts, then DEAD.
    await waitFor(async () => (await statsOf(sink.id)).dead === 1, { what: 'dead delivery' });
    expect(r.all).toHaveLength(2);
    const paused = await call<{ updateStreamSink: { status: string } }>(
      adminA(),
      `mutation($id: ID!) { updateStreamSink(id: $id, input: { status: PAUSED, name: "Renamed" }) { status name } }`,
      { id: sink.id },
    );
    expect(paused.data!.updateStreamSink).toEqual({ status: 'PAUSED', name: 'Renamed' });
    healthy = true;
    const replayed = await call<{ replayDeadLetters: number }>(
      adminA(),
      `mutation($id: ID!) { replayDeadLetters(sinkId: $id) }`,
      {
        id: sink.id,
      },
    );
    expect(replayed.data!.replayDeadLetters).toBe(1);
    await sendTest();
    expect((await statsOf(sink.id)).pending).toBe(2); // paused: nothing goes out
    expect(r.accepted()).toHaveLength(0);
    await call(adminA(), `mutation($id: ID!) { updateStreamSink(id: $id, input: { status: ACTIVE }) { status } }`, {
      id: sink.id,
    });
    await r.until(() => r.accepted().length === 2);
    const bad = await call(
      adminA(),
      `mutation($id: ID!) { updateStreamSink(id: $id, input: { status: DISABLED }) { status } }`,
      {
        id: sink.id,
      },
    );
    expect([codeOf(bad), fieldOf(bad)]).toEqual(['BAD_USER_INPUT', 'status']);
    const deleted = await call<{ deleteStreamSink: boolean }>(
      adminA(),
      `mutation($id: ID!) { deleteStreamSink(id: $id) }`,
      { id: sink.id },
    );
    expect(deleted.data!.deleteStreamSink).toBe(true);
    expect(codeOf(await call(adminA(), `mutation($id: ID!) { deleteStreamSink(id: $id) }`, { id: sink.id }))).toBe(
      'NOT_FOUND',
    );
  });

  it('deliveries paginate with cursors and filter by status', async () => {
    const r = await receiver();
    const { sink, secret } = await createSinkVia(adminA(), r.url, ['TENANT_EVENTS']);
    r.setSecrets([secret]);
    for (let i = 0; i < 3; i++)
      await call(adminA(), `mutation($id: ID!) { sendTestEvent(sinkId: $id) { id } }`, { id: sink.id });
    await r.until(() => r.accepted().length === 3);
    const page = (after: string | null) =>
      call<{
        streamSink: {
          deliveries: {
            edges: { cursor: string; node: { id: string } }[];
            pageInfo: { hasNextPage: boolean; endCursor: string };
          };
        };
      }>(
        adminA(),
        `query($id: ID!, $after: String) { streamSink(id: $id) { deliveries(first: 2, after: $after) { edges { cursor node { id } } pageInfo { hasNextPage endCursor } } } }`,
        { id: sink.id, after },
      );
    const p1 = (await page(null)).data!.streamSink.deliveries;
    expect(p1.edges).toHaveLength(2);
    expect(p1.pageInfo.hasNextPage).toBe(true);
    const p2 = (await page(p1.pageInfo.endCursor)).data!.streamSink.deliveries;
    expect(p2.edges).toHaveLength(1);
    expect(p2.pageInfo.hasNextPage).toBe(false);
    const ids = [...p1.edges, ...p2.edges].map((e) => e.node.id);
    expect(new Set(ids).size).toBe(3);
    const dead = await call<{ streamSink: { deliveries: { edges: unknown[] } } }>(
      adminA(),
      `query($id: ID!) { streamSink(id: $id) { deliveries(status: DEAD) { edges { cursor } } } }`,
      { id: sink.id },
    );
    expect(dead.data!.streamSink.deliveries.edges).toEqual([]);
    const badCursor = await call(
      adminA(),
      `query($id: ID!) { streamSink(id: $id) { deliveries(after: "zz") { edges { cursor } } } }`,
      {
        id: sink.id,
      },
    );
    expect(codeOf(badCursor)).toBe('BAD_USER_INPUT');
  });

  it("streamingStatus: broker reachable, lag per topic, the caller's own outbox backlog", async () => {
    // No relay runs here: earlier tests' events (a dead letter among them) are still unsent.
    const unsentBefore = await unsentOutboxCount(db, a.id);
    await emit(db, a.id, Topic.TENANT_EVENTS, { n: 1 });
    await emit(db, a.id, Topic.TENANT_EVENTS, { n: 2 });
    const q = `{ streamingStatus { brokerReachable outboxBacklog oldestUnsentAt consumerLag { topic lag } } }`;
    type S = {
      streamingStatus: {
        brokerReachable: boolean;
        outboxBacklog: number;
        oldestUnsentAt: string | null;
        consumerLag: { topic: string }[];
      };
    };
    const mine = (await call<S>(adminA(), q)).data!.streamingStatus;
    expect(mine.brokerReachable).toBe(true);
    expect(mine.outboxBacklog).toBe(unsentBefore + 2);
    expect(mine.oldestUnsentAt).not.toBeNull();
    expect(mine.consumerLag.map((l) => l.topic)).toEqual(
      [Topic.LOCATION_UPDATES, Topic.SESSION_EVENTS, Topic.TENANT_EVENTS, Topic.GEOFENCE_EVENTS].map(
        pipeline.topics.of,
      ),
    );
    const theirs = (await call<S>(adminB(), q)).data!.streamingStatus;
    expect(theirs.outboxBacklog).toBe(0); // tenant A's rows are not tenant B's backlog
    const platform = (await call<S>(member(null, 'PLATFORM_ADMIN'), q)).data!.streamingStatus;
    expect(platform.outboxBacklog).toBeGreaterThanOrEqual(2);
    expect(codeOf(await call(member(a.id, 'MEMBER'), q))).toBe('FORBIDDEN');
  });
});

async function statsOf(sinkId: string) {
  const r = await call<{ streamSink: { stats: Record<string, number> } }>(
    adminA(),
    `query($id: ID!) { streamSink(id: $id) { stats { delivered pending failed dead } } }`,
    { id: sinkId },
  );
  return r.data!.streamSink.stats;
}
