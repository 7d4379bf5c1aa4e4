/**
 * A live subscriber never misses events in silence: when its group's backlog is full, when a
 * publish was lost (a `gap` event) or when the pub/sub transport reconnected, it gets a
 * LIVE_EVENTS_MISSED gap marker in stream order, and the subscription keeps going.
 */
import { randomUUID } from 'node:crypto';
import { buildSchema, getOperationAST, parse } from 'graphql';
import { describe, expect, it } from 'vitest';
import { createLogger } from '@lt/logger';
import { encodeLiveEvent, type LiveEvent } from '@lt/events';
import { createMemoryPubSub, tenantChannel, type PubSub } from '@lt/pubsub';
import { waitFor } from '@lt/testing';
import { Fanout, LIVE_EVENTS_MISSED, type Subscriber } from '../src/subscriptions/fanout';
import { analyseSubscription } from '../src/subscriptions/operation';

const schema = buildSchema(`
  scalar DateTime
  type LocationPoint { id: ID! latitude: Float! recordedAt: DateTime! }
  type User { id: ID! email: String! }
  type LocationSession { id: ID! user: User! }
  type LocationUpdate { session: LocationSession! point: LocationPoint! }
  enum SessionEventType { STARTED ENDED }
  type SessionEvent { type: SessionEventType! session: LocationSession! at: DateTime! }
  type Query {
    liveLocationUpdates(pointIds: [ID!]!): [LocationUpdate!]!
    liveSessionEvent(sessionId: ID!, type: SessionEventType!, at: DateTime!): SessionEvent
  }
  type Subscription { locationUpdated(sessionId: ID): LocationUpdate! sessionEvents: SessionEvent! }
`);

const TENANT = randomUUID();
const MEMBER = randomUUID();
// Needs the re-read (user.email lives in another subgraph): every batch goes through `execute`.
const QUERY = 'subscription($s: ID) { locationUpdated(sessionId: $s) { point { id } session { user { email } } } }';

type Payload = {
  data: { locationUpdated: { point: { id: string } } } | null;
  errors?: { extensions: Record<string, unknown> }[];
};

/** A fan-out whose re-reads wait for `release()`: the backlog fills deterministically. */
function setup(o: { maxGroupBacklog: number; pubsub?: PubSub; sessionId: string }) {
  const pubsub = o.pubsub ?? createMemoryPubSub();
  let release!: () => void;
  const gate = new Promise<void>((r) => (release = r));
  const fanout = new Fanout({
    pubsub,
    execute: async (_caller, _doc, variables) => {
      await gate;
      const ids = (variables as { __live_pointIds: string[] }).__live_pointIds;
      return {
        data: { locationUpdated: ids.map((id) => ({ point: { id }, session: { user: { email: 'm@x.test' } } })) },
      };
    },
    schema,
    log: createLogger({ level: 'silent' }),
    maxConcurrentExecutions: 4,
    maxGroupBacklog: o.maxGroupBacklog,
  });
  const received: Payload[] = [];
  const doc = parse(QUERY);
  const subscriber: Subscriber = {
    caller: {
      membership: { userId: MEMBER, sub: MEMBER, tenantId: TENANT, role: 'MEMBER', tenantStatus: 'ACTIVE' },
      requestId: randomUUID(),
      tokenId: null,
      tokenExpiresAt: null,
      clientAddress: null,
    },
    op: analyseSubscription(doc, getOperationAST(doc)!, { s: o.sessionId }),
    send: (results) => {
      for (const r of results) received.push(JSON.parse(r) as Payload);
      return true;
    },
    onOverflow: () => undefined,
  };
  const publish = (e: LiveEvent) => pubsub.publish(tenantChannel(TENANT, 'live'), encodeLiveEvent(e));
  return { fanout, subscriber, received, release, publish };
}

const batch = (sessionId: string, n: number): LiveEvent => ({
  kind: 'location',
  tenantId: TENANT,
  sessionId,
  userId: MEMBER,
  points: Array.from({ length: n }, () => ({ id: randomUUID(), recordedAt: new Date().toISOString() })),
  publishedAt: Date.now(),
});

const count = (received: Payload[]) => ({
  points: received.filter((r) => r.data !== null).length,
  missed: received
    .filter((r) => r.errors?.[0]?.extensions['code'] === LIVE_EVENTS_MISSED)
    .reduce((n, r) => n + (r.errors![0]!.extensions['missed'] as number), 0),
});

describe('live gap markers', () => {
  it('30 batches of 1,000 points past the backlog: every point is delivered or counted in a marker, in order', async () => {
    const sessionId = randomUUID();
    const t = setup({ maxGroupBacklog: 5_000, sessionId });
    await t.fanout.add(t.subscriber);
    const sent: string[][] = [];
    for (let i = 0; i < 30; i++) {
      const e = batch(sessionId, 1_000) as Extract<LiveEvent, { kind: 'location' }>;
      sent.push(e.points.map((p) => p.id));
      await t.publish(e);
    }
    // The memory pub/sub delivers on a microtask: all 30 batches reached the group.
    await waitFor(() => t.fanout.servedCounts().gaps > 0, { what: 'gap marker queued' });
    t.release();
    await waitFor(() => count(t.received).points + count(t.received).missed === 30_000, {
      what: 'all 30,000 points delivered or counted missed',
    });
    const { points, missed } = count(t.received);
    // The backlog (5,000 points) took the first five batches; the other 25,000 are in one marker.
    expect(points).toBe(5_000);
    expect(missed).toBe(25_000);
    const markers = t.received.filter((r) => r.data === null);
    expect(markers).toHaveLength(1);
    expect(markers[0]!.errors![0]!.extensions).toEqual({
      code: LIVE_EVENTS_MISSED,
      missed: 25_000,
      sessionIds: [sessionId],
    });
    // In order: the delivered points are the first five batches, then the marker.
    const ids = t.received.flatMap((r) => (r.data ? [r.data.locationUpdated.point.id] : ['GAP']));
    expect(ids).toEqual([...sent.slice(0, 5).flat(), 'GAP']);

    // The subscription keeps going: the next batch arrives after the marker.
    const next = batch(sessionId, 3) as Extract<LiveEvent, { kind: 'location' }>;
    await t.publish(next);
    await waitFor(() => t.received.length === 5_000 + 1 + 3, { what: 'the batch after the gap' });
    expect(t.received.slice(-3).map((r) => r.data!.locationUpdated.point.id)).toEqual(next.points.map((p) => p.id));
  });

  it('within the backlog, nothing is missed and no marker is sent', async () => {
    const sessionId = randomUUID();
    const t = setup({ maxGroupBacklog: 50_000, sessionId });
    await t.fanout.add(t.subscriber);
    for (let i = 0; i < 30; i++) await t.publish(batch(sessionId, 1_000));
    t.release();
    await waitFor(() => t.received.length === 30_000, { what: '30,000 points' });
    expect(count(t.received)).toEqual({ points: 30_000, missed: 0 });
    expect(t.fanout.servedCounts().gaps).toBe(0);
  });

  it('a lost publish (gap event) reaches the subscribers of that session only', async () => {
    const sessionId = randomUUID();
    const t = setup({ maxGroupBacklog: 50_000, sessionId });
    t.release();
    await t.fanout.add(t.subscriber);
    const gap = (s: string, userId = MEMBER): LiveEvent => ({
      kind: 'gap',
      of: 'location',
      tenantId: TENANT,
      sessionId: s,
      userId,
      missed: 7,
      publishedAt: Date.now(),
    });
    await t.publish(gap(randomUUID())); // another session: not this subscription's
    await t.publish(gap(sessionId, randomUUID())); // another user's: a MEMBER never sees it
    await t.publish(gap(sessionId));
    await waitFor(() => t.received.length >= 1, { what: 'gap marker' });
    expect(t.received).toHaveLength(1);
    expect(t.received[0]!.errors![0]!.extensions).toEqual({
      code: LIVE_EVENTS_MISSED,
      missed: 7,
      sessionIds: [sessionId],
    });
  });

  it('a transport reconnect (pub/sub onGap) gives every subscriber a marker with an unknown count', async () => {
    const sessionId = randomUUID();
    const base = createMemoryPubSub();
    let fire: () => void = () => undefined;
    const pubsub: PubSub = {
      ...base,
      onGap: (l) => {
        fire = l;
        return () => (fire = () => undefined);
      },
    };
    const t = setup({ maxGroupBacklog: 50_000, sessionId, pubsub });
    t.release();
    await t.fanout.add(t.subscriber);
    fire();
    await waitFor(() => t.received.length >= 1, { what: 'gap marker' });
    expect(t.received[0]!.errors![0]!.extensions).toEqual({ code: LIVE_EVENTS_MISSED, missed: null, sessionIds: null });
  });
});
