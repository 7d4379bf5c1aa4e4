/**
 * A live subscriber never silently misses events: one member records 30 batches of 1,000 points;
 * a subscriber of that session (a selection that needs the gateway re-read) either receives all
 * 30,000 points or a LIVE_EVENTS_MISSED gap marker accounting for exactly the ones it did not
 * get — never fewer points with the socket silently open.
 */
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import { createTestTenant, waitFor, type TestTenant } from '@lt/testing';
import { gql } from '../support/graphql';
import { bearer, createUserWithToken, startAuthedStack, type AuthedStack, type TestUser } from '../support/identity';
import { LiveSocket } from './liveSocket';

const BATCHES = 30;
const BATCH = 1_000;
const SUBSCRIPTION =
  'subscription($s: ID) { locationUpdated(sessionId: $s) { point { id } session { user { email } } } }';

type Next = {
  data: { locationUpdated: { point: { id: string } } } | null;
  errors?: { extensions?: Record<string, unknown> }[];
};

function tally(s: LiveSocket, id: string) {
  const ids = new Set<string>();
  let missed = 0;
  let markers = 0;
  for (const m of s.pending(id)) {
    if (m.type !== 'next') throw new Error(`unexpected ${m.type}: ${JSON.stringify(m.payload)}`);
    const p = m.payload as Next;
    if (p.data) ids.add(p.data.locationUpdated.point.id);
    else {
      const ext = p.errors?.[0]?.extensions;
      expect(ext?.['code']).toBe('LIVE_EVENTS_MISSED');
      markers++;
      missed += ext?.['missed'] as number;
    }
  }
  return { received: ids.size, missed, markers };
}

for (const [name, limits, inFlight] of [
  ['default limits, batches sent one after another', undefined, 1],
  ['a 1,000-point group backlog, six batches in flight', { maxGroupBacklog: 1_000 }, 6],
] as const) {
  describe(`30 × 1,000-point batches to a live subscriber (${name})`, () => {
    let stack: AuthedStack;
    let tenant: TestTenant;
    let admin: TestUser;
    let member: TestUser;
    const sockets: LiveSocket[] = [];

    beforeAll(async () => {
      stack = await startAuthedStack(limits ? { subscriptionLimits: limits } : {});
      tenant = await createTestTenant(stack.db, 'gaps');
      [admin, member] = await Promise.all([
        createUserWithToken(stack, { tenantId: tenant.id, role: 'TENANT_ADMIN' }),
        createUserWithToken(stack, { tenantId: tenant.id, role: 'MEMBER' }),
      ]);
    });
    afterEach(async () => {
      await Promise.allSettled(sockets.splice(0).map((s) => s.close()));
    });
    afterAll(async () => {
      await stack?.stop();
    });

    it('receives every point, or a gap marker for exactly the missing ones, and stays subscribed', async () => {
      const as = async <T>(query: string, variables: Record<string, unknown>) => {
        const r = await gql<T>(stack.routerUrl, query, variables, bearer(member));
        if (r.errors) throw new Error(JSON.stringify(r.errors));
        return r.data!;
      };
      const { startLocationSession: session } = await as<{ startLocationSession: { id: string } }>(
        'mutation { startLocationSession(input: { deviceId: "gaps" }) { id } }',
        {},
      );
      const ws = await LiveSocket.open(stack.routerUrl, `Bearer ${admin.accessToken}`);
      sockets.push(ws);
      await ws.acked();
      ws.subscribe('live', SUBSCRIPTION, { s: session.id });
      await waitFor(() => stack.subscriptions()!.stats().subscriptions === 1, { what: 'subscription live' });

      const t0 = Date.now();
      const record = (b: number) =>
        as<{ recordLocations: { accepted: number } }>(
          'mutation($s: ID!, $ls: [LocationInput!]!) { recordLocations(sessionId: $s, locations: $ls) { accepted } }',
          {
            s: session.id,
            ls: Array.from({ length: BATCH }, (_, i) => ({
              latitude: 40 + (b * BATCH + i) / 1e6,
              longitude: 7,
              recordedAt: new Date(t0 + b * BATCH + i).toISOString(),
            })),
          },
        );
      for (let b = 0; b < BATCHES; b += inFlight) {
        const sent = await Promise.all(
          Array.from({ length: Math.min(inFlight, BATCHES - b) }, (_, k) => record(b + k)),
        );
        for (const r of sent) expect(r.recordLocations.accepted).toBe(BATCH);
      }

      await waitFor(
        () => {
          const t = tally(ws, 'live');
          return t.received + t.missed >= BATCHES * BATCH;
        },
        { what: '30,000 points received or accounted for by gap markers', timeoutMs: 60_000 },
      );
      const t = tally(ws, 'live');
      expect(t.received + t.missed).toBe(BATCHES * BATCH);
      if (t.received < BATCHES * BATCH) expect(t.markers).toBeGreaterThan(0);
      else expect(t.markers).toBe(0);
      // Still subscribed: a later point arrives on the same socket.
      await as('mutation($s: ID!, $l: LocationInput!) { recordLocation(sessionId: $s, location: $l) { id } }', {
        s: session.id,
        l: { latitude: 1, longitude: 1, recordedAt: new Date(t0 + BATCHES * BATCH + 1).toISOString() },
      });
      await waitFor(() => tally(ws, 'live').received === t.received + 1, { what: 'the point after the batches' });
      console.info(`[liveGaps] ${name}: received ${t.received}, missed ${t.missed} in ${t.markers} marker(s)`);
    });
  });
}
