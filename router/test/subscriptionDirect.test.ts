import { randomUUID } from 'node:crypto';
import { buildSchema, getOperationAST, parse, type DocumentNode, type ExecutionResult } from 'graphql';
import { describe, expect, it } from 'vitest';
import { createLogger } from '@lt/logger';
import { encodeLiveEvent, type LiveEvent } from '@lt/events';
import { createMemoryPubSub, tenantChannel } from '@lt/pubsub';
import { waitFor } from '@lt/testing';
import { resolveFromEvent, servableFromEvent } from '../src/subscriptions/direct';
import { Fanout, type Subscriber } from '../src/subscriptions/fanout';
import { analyseSubscription } from '../src/subscriptions/operation';

/** The API schema's live part (same names and types as router/supergraph.graphql). */
const schema = buildSchema(`
  scalar DateTime
  enum SessionStatus { ACTIVE ENDED }
  enum SessionEventType { STARTED ENDED }
  type User { id: ID! email: String! }
  type Tenant { id: ID! name: String! }
  type LocationPoint { id: ID! latitude: Float! longitude: Float! accuracy: Float altitude: Float speed: Float
    heading: Float recordedAt: DateTime! receivedAt: DateTime! }
  type LocationPointConnection { edges: [LocationPoint!]! }
  type LocationSession { id: ID! user: User! tenant: Tenant! deviceId: String status: SessionStatus!
    startedAt: DateTime! endedAt: DateTime pointCount: Int! lastPoint: LocationPoint
    points(first: Int, after: String): LocationPointConnection! }
  type LocationUpdate { session: LocationSession! point: LocationPoint! }
  type SessionEvent { type: SessionEventType! session: LocationSession! at: DateTime! }
  type Query {
    liveLocationUpdates(pointIds: [ID!]!): [LocationUpdate!]!
    liveSessionEvent(sessionId: ID!, type: SessionEventType!, at: DateTime!): SessionEvent
  }
  type Subscription { locationUpdated(sessionId: ID): LocationUpdate! sessionEvents: SessionEvent! }
`);

const analyse = (q: string, vars: Record<string, unknown> = {}) => {
  const doc = parse(q);
  return analyseSubscription(doc, getOperationAST(doc)!, vars);
};
const servable = (q: string) => servableFromEvent(schema, analyse(q));

const TENANT = randomUUID();
const ALICE = randomUUID();
const BOB = randomUUID();

function pointEvent(userId: string, n: number, withPayload = true): Extract<LiveEvent, { kind: 'location' }> {
  const sessionId = randomUUID();
  const points = Array.from({ length: n }, (_, i) => ({
    id: randomUUID(),
    latitude: 10 + i,
    longitude: 20,
    accuracy: i % 2 ? 5 : null,
    altitude: null,
    speed: 1.5,
    heading: null,
    recordedAt: new Date(1_700_000_000_000 + i).toISOString(),
    receivedAt: new Date(1_700_000_100_000 + i).toISOString(),
  }));
  return {
    kind: 'location',
    tenantId: TENANT,
    sessionId,
    userId,
    points: points.map((p) => ({ id: p.id, recordedAt: p.recordedAt })),
    ...(withPayload
      ? {
          payload: {
            session: {
              id: sessionId,
              userId,
              status: 'ACTIVE' as const,
              deviceId: 'dev-1',
              startedAt: new Date(1_699_999_000_000).toISOString(),
              endedAt: null,
              pointCount: 7,
            },
            points,
          },
        }
      : {}),
    publishedAt: Date.now(),
  };
}

describe('servableFromEvent (decided once per group from the API schema)', () => {
  it('accepts selections of carried fields only, with aliases, __typename, inline fragments and fragments on the same type', () => {
    expect(
      servable('subscription { locationUpdated { session { id user { id } tenant { id } } point { id latitude } } }'),
    ).toBe(true);
    expect(
      servable(`subscription($s: ID, $x: Boolean!) { u: locationUpdated(sessionId: $s) { __typename
        s: session { __typename status deviceId startedAt endedAt pointCount ... on LocationSession { id } }
        point { ...P lat: latitude @include(if: $x) } } }
        fragment P on LocationPoint { id longitude accuracy altitude speed heading recordedAt receivedAt __typename }`),
    ).toBe(true);
  });

  it('refuses fields of other subgraphs, arguments, non-carried fields and session events', () => {
    expect(servable('subscription { locationUpdated { session { user { email } } point { id } } }')).toBe(false);
    expect(servable('subscription { locationUpdated { session { tenant { name } } point { id } } }')).toBe(false);
    expect(servable('subscription { locationUpdated { session { points(first: 1) { edges { id } } } } }')).toBe(false);
    expect(servable('subscription { locationUpdated { session { lastPoint { id } } } }')).toBe(false);
    expect(
      servable('subscription { locationUpdated { ...U } } fragment U on LocationUpdate { session { user { email } } }'),
    ).toBe(false);
    expect(servable('subscription { sessionEvents { type session { id } } }')).toBe(false);
  });
});

describe('resolveFromEvent', () => {
  it('builds the payload with aliases, __typename and nulls, one item per point, like liveLocationUpdates', () => {
    const op = analyse(`subscription { live: locationUpdated { __typename
      s: session { id owner: user { id __typename } tenant { id } status pointCount endedAt deviceId startedAt }
      point { id lat: latitude accuracy altitude recordedAt receivedAt __typename } } }`);
    const e = pointEvent(ALICE, 2);
    const r = resolveFromEvent(schema, op, e)!;
    expect(r.errors).toBeUndefined();
    const p = e.payload!.points;
    const session = {
      id: e.sessionId,
      owner: { id: ALICE, __typename: 'User' },
      tenant: { id: TENANT },
      status: 'ACTIVE',
      pointCount: 7,
      endedAt: null,
      deviceId: 'dev-1',
      startedAt: e.payload!.session.startedAt,
    };
    expect(r.data).toEqual({
      live: p.map((q) => ({
        __typename: 'LocationUpdate',
        s: session,
        point: {
          id: q.id,
          lat: q.latitude,
          accuracy: q.accuracy,
          altitude: null,
          recordedAt: q.recordedAt,
          receivedAt: q.receivedAt,
          __typename: 'LocationPoint',
        },
      })),
    });
  });

  it('answers null for an event without payload (a large batch is re-read)', () => {
    const op = analyse('subscription { locationUpdated { point { id } } }');
    expect(resolveFromEvent(schema, op, pointEvent(ALICE, 1, false))).toBeNull();
  });
});

describe('Fanout fast path', () => {
  type Delivered = { user: string; result: ExecutionResult };

  async function setup(query: string) {
    const pubsub = createMemoryPubSub();
    const executed: DocumentNode[] = [];
    const fanout = new Fanout({
      pubsub,
      // The re-read: answers an empty list (nothing visible) — the tests count the calls.
      execute: async (_caller, doc) => {
        executed.push(doc);
        return { data: { locationUpdated: [] } };
      },
      schema,
      log: createLogger({ level: 'silent' }),
      maxConcurrentExecutions: 4,
      maxGroupBacklog: 5_000,
    });
    const delivered: Delivered[] = [];
    const subscriber = (userId: string, role: 'MEMBER' | 'TENANT_ADMIN'): Subscriber => {
      return {
        caller: {
          membership: { userId, sub: userId, tenantId: TENANT, role, tenantStatus: 'ACTIVE' },
          requestId: randomUUID(),
          tokenId: null,
          tokenExpiresAt: null,
          clientAddress: null,
        },
        op: analyse(query),
        // What the engine writes as `next` payloads: serialised results, parsed back here.
        send: (results) => {
          for (const r of results)
            delivered.push({ user: `${role}:${userId}`, result: JSON.parse(r) as ExecutionResult });
          return true;
        },
        onOverflow: () => undefined,
      };
    };
    const subs = [subscriber(ALICE, 'MEMBER'), subscriber(BOB, 'MEMBER'), subscriber(randomUUID(), 'TENANT_ADMIN')];
    for (const s of subs) await fanout.add(s);
    const publish = (e: LiveEvent) => pubsub.publish(tenantChannel(TENANT, 'live'), encodeLiveEvent(e));
    const stop = async () => {
      for (const s of subs) await fanout.remove(s);
      await pubsub.close();
    };
    return { fanout, executed, delivered, publish, stop };
  }

  it("serves a location-only selection without a re-read, and a MEMBER never gets another member's points", async () => {
    const t = await setup('subscription { locationUpdated { session { id user { id } } point { id latitude } } }');
    try {
      const e = pointEvent(ALICE, 3);
      await t.publish(e);
      // Alice's group and the admin group: 3 points each; Bob's group never matches.
      await waitFor(() => t.delivered.length >= 6, { what: 'fast-path deliveries' });
      expect(t.executed).toHaveLength(0);
      expect(t.fanout.servedCounts()).toEqual({ fromEvent: 2, reRead: 0, gaps: 0 });
      expect(t.delivered.some((d) => d.user === `MEMBER:${BOB}`)).toBe(false);
      const owners = t.delivered.map(
        (d) =>
          (d.result.data as { locationUpdated: { session: { user: { id: string } } } }).locationUpdated.session.user.id,
      );
      expect(new Set(owners)).toEqual(new Set([ALICE]));
      // Bob's own point reaches Bob and the admin, not Alice.
      await t.publish(pointEvent(BOB, 1));
      await waitFor(() => t.delivered.length >= 8, { what: "bob's deliveries" });
      expect(
        t.delivered
          .slice(6)
          .map((d) => d.user)
          .sort(),
      ).toEqual([`MEMBER:${BOB}`, expect.stringMatching(/^TENANT_ADMIN:/)].sort());
      expect(t.delivered.filter((d) => d.user === `MEMBER:${ALICE}`)).toHaveLength(3);
    } finally {
      await t.stop();
    }
  });

  it('re-reads through the gateway for a cross-subgraph selection and for an event without payload', async () => {
    const cross = await setup('subscription { locationUpdated { session { user { email } } point { id } } }');
    try {
      await cross.publish(pointEvent(ALICE, 2));
      await waitFor(() => cross.fanout.servedCounts().reRead >= 2, { what: 'cross-subgraph re-reads' });
      expect(cross.fanout.servedCounts().fromEvent).toBe(0);
    } finally {
      await cross.stop();
    }
    const large = await setup('subscription { locationUpdated { point { id } } }');
    try {
      await large.publish(pointEvent(ALICE, 60, false));
      await waitFor(() => large.fanout.servedCounts().reRead >= 2, { what: 'large-batch re-reads' });
      expect(large.fanout.servedCounts().fromEvent).toBe(0);
    } finally {
      await large.stop();
    }
  });
});
