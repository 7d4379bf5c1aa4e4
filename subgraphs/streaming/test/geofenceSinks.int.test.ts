/**
 * Tenant isolation of geofence webhooks, end to end: two tenants with the same fence and sessions
 * walking the same path produce geofence events in the location subgraph's point transactions
 * (outbox); the streaming pipeline delivers each tenant's GEOFENCE_EVENTS sink exactly its own
 * tenant's events, and a sink subscribed to another topic gets none. On Kafka and on the
 * in-process event log of `npm start`.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { Membership } from '@lt/context';
import { createDb, withTenant, type Db } from '@lt/db';
import { Topic } from '@lt/events';
import { createLogger } from '@lt/logger';
import { createLocationSubgraph } from '@lt/subgraph-location';
import { createUser } from '@lt/subgraph-location/testing';
import { Cleanup, createTestTenant, subgraphClient, testEnv, waitFor } from '@lt/testing';
import { WEBHOOK_CONSUMER } from '../src/consumers/eventConsumer';
import { createSink, testSecretKey } from './support/fixtures';
import { eventLogImplementations, startTestPipeline } from './support/pipeline';
import { startReceiver } from './support/receiver';

const log = createLogger({ level: 'silent' });
const cleanup = new Cleanup();
const key = testSecretKey();
let db: Db;
let call: ReturnType<typeof subgraphClient>;

beforeAll(async () => {
  db = createDb({ url: testEnv().databaseUrl });
  cleanup.add(() => db.$disconnect());
  const server = createLocationSubgraph({ db, log, contextSecret: testEnv().contextSecret });
  const port = await server.start(0);
  cleanup.add(() => server.stop());
  call = subgraphClient(`http://127.0.0.1:${port}/graphql`, testEnv().contextSecret);
});
afterAll(() => cleanup.run());

const implementations = eventLogImplementations(log);

async function gql<T>(m: Membership, query: string, variables?: Record<string, unknown>): Promise<T> {
  const r = await call<T>(m, query, variables);
  expect(r.errors).toBeUndefined();
  return r.data!;
}

/** The tenant's outbox event ids on a topic (as that tenant). */
const outboxIds = (tenantId: string, topic: string) =>
  withTenant(db, tenantId, (tx) => tx.outbox.findMany({ where: { topic }, select: { id: true } })).then((r) =>
    r.map((x) => x.id),
  );

/** Event ids the webhook consumer has handled for the tenant (their deliveries are parked). */
const processedIds = (tenantId: string) =>
  withTenant(db, tenantId, (tx) =>
    tx.processedEvent.findMany({ where: { consumer: WEBHOOK_CONSUMER }, select: { eventId: true } }),
  ).then((r) => new Set(r.map((x) => x.eventId)));

describe.each(implementations)('GEOFENCE_EVENTS sinks on $name', ({ on }) => {
  it("a tenant's geofence sink receives its own tenant's geofence events only", async () => {
    const stops = new Cleanup();
    try {
      const [a, b] = [await createTestTenant(db, 'geosink'), await createTestTenant(db, 'geosink')];
      const where = on();
      if ('eventLog' in where) stops.add(() => where.eventLog.stop());
      const pipeline = await startTestPipeline({
        db,
        log,
        on: where,
        prefix: 'geo',
        secretKey: key,
        attemptTimeoutMs: 2_000,
        tenantIds: [a.id, b.id],
      });
      stops.add(() => pipeline.stop());

      const receivers = await Promise.all([startReceiver(), startReceiver(), startReceiver()]);
      for (const r of receivers) stops.add(() => r.stop());
      const [ra, raPoints, rb] = receivers as [(typeof receivers)[0], (typeof receivers)[0], (typeof receivers)[0]];
      const sa = await createSink(db, key, a.id, ra.url, ['GEOFENCE_EVENTS']);
      const saPoints = await createSink(db, key, a.id, raPoints.url, ['LOCATION_UPDATES']);
      const sb = await createSink(db, key, b.id, rb.url, ['GEOFENCE_EVENTS']);
      ra.setSecrets([sa.secret]);
      raPoints.setSecrets([saPoints.secret]);
      rb.setSecrets([sb.secret]);

      // Same fence, same path, same times in both tenants: every event has a twin in the other.
      const fences = new Map<string, string>();
      let t = Date.now() + 60_000;
      const path = [
        [52.6, 13.405],
        [52.52, 13.405],
        [52.52, 13.406],
        [52.6, 13.405],
      ].map(([latitude, longitude]) => ({ latitude, longitude, recordedAt: new Date((t += 1_000)).toISOString() }));
      for (const tenant of [b, a]) {
        const admin = await createUser(db, tenant.id, 'TENANT_ADMIN');
        const f = await gql<{ createGeofence: { id: string } }>(
          admin,
          `mutation($i: CreateGeofenceInput!) { createGeofence(input: $i) { id } }`,
          { i: { name: 'depot', circle: { latitude: 52.52, longitude: 13.405, radiusMeters: 1_000 } } },
        );
        fences.set(tenant.id, f.createGeofence.id);
        const s = await gql<{ startLocationSession: { id: string } }>(
          admin,
          'mutation { startLocationSession { id } }',
        );
        await gql(
          admin,
          `mutation($s: ID!, $ls: [LocationInput!]!) { recordLocations(sessionId: $s, locations: $ls) { accepted } }`,
          {
            s: s.startLocationSession.id,
            ls: path,
          },
        );
      }

      const geoA = await outboxIds(a.id, Topic.GEOFENCE_EVENTS);
      const geoB = await outboxIds(b.id, Topic.GEOFENCE_EVENTS);
      expect(geoA).toHaveLength(2); // ENTER, EXIT
      expect(geoB).toHaveLength(2);
      // Quiescence: the consumer has handled every event of both tenants (deliveries parked), and
      // every parked delivery has been answered.
      const everything = [
        ...geoA,
        ...geoB,
        ...(await outboxIds(a.id, Topic.LOCATION_UPDATES)),
        ...(await outboxIds(b.id, Topic.LOCATION_UPDATES)),
      ];
      await waitFor(
        async () => {
          const done = new Set([...(await processedIds(a.id)), ...(await processedIds(b.id))]);
          return everything.every((id) => done.has(id));
        },
        { timeoutMs: 30_000, what: 'every event of both tenants handled by the webhook consumer' },
      );
      await ra.until(() => ra.accepted().length >= 2, 20_000, "tenant A's geofence events at its sink");
      await rb.until(() => rb.accepted().length >= 2, 20_000, "tenant B's geofence events at its sink");
      await raPoints.until(() => raPoints.accepted().length >= 4, 20_000, "tenant A's points at its points sink");
      await waitFor(
        async () =>
          (
            await withTenant(db, a.id, (tx) =>
              tx.delivery.findMany({ where: { sinkId: { in: [sa.sink.id, saPoints.sink.id] } } }),
            )
          ).every((d) => d.status === 'DELIVERED'),
        { timeoutMs: 20_000, what: "tenant A's deliveries DELIVERED" },
      );

      expect(ra.all.every((r) => r.verified)).toBe(true);
      expect(rb.all.every((r) => r.verified)).toBe(true);
      expect(new Set(ra.accepted().map((r) => r.id))).toEqual(new Set(geoA));
      expect(new Set(rb.accepted().map((r) => r.id))).toEqual(new Set(geoB));
      for (const [r, tenant] of [
        [ra, a.id],
        [rb, b.id],
      ] as const) {
        expect(r.accepted().map((x) => x.body.tenantId)).toEqual([tenant, tenant]);
        expect(r.accepted().map((x) => x.body.data['geofenceId'])).toEqual([fences.get(tenant), fences.get(tenant)]);
        expect(r.accepted().map((x) => x.body.type)).toEqual(['geofence.entered.v1', 'geofence.exited.v1']);
      }
      // A sink of another topic gets no geofence event, and only its own tenant's points.
      expect(raPoints.accepted().every((x) => x.body.type === 'location.recorded.v1' && x.body.tenantId === a.id)).toBe(
        true,
      );
      expect(raPoints.accepted()).toHaveLength(4);
      // Tenant B cannot see tenant A's deliveries, even by sink id (RLS).
      expect(await withTenant(db, b.id, (tx) => tx.delivery.findMany({ where: { sinkId: sa.sink.id } }))).toEqual([]);
    } finally {
      await stops.run();
    }
  });
});
