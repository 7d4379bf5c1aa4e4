/**
 * Fleet history on the location subgraph, real Postgres (RLS on), router-signed contexts: ingest
 * filters, maintained session summaries and stops (against hand-computed tracks), devices and
 * online/offline, the subscription snapshot's ids, and tenant isolation of every new query.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { Membership } from '@lt/context';
import { createDb, withTenant, type Db } from '@lt/db';
import { createLogger } from '@lt/logger';
import { parseLiveEvent, type LiveEvent } from '@lt/events';
import { createMemoryPubSub, tenantChannel } from '@lt/pubsub';
import { Cleanup, createTestTenant, testEnv, waitFor } from '@lt/testing';
import { createLocationSubgraph } from '../src/createLocationSubgraph';
import { createUser, firstError, subgraphClient } from './fixtures';

const cleanup = new Cleanup();
let db: Db;
let call: ReturnType<typeof subgraphClient>;
/** The same subgraph with its clock DEVICE_OFFLINE_AFTER_SECONDS + 1 s ahead. */
let later: ReturnType<typeof subgraphClient>;
const pubsub = createMemoryPubSub();
let t1: string;
let t2: string;
let admin: Membership;
let alice: Membership;
let bob: Membership;
let other: Membership;

beforeAll(async () => {
  const env = testEnv();
  db = createDb({ url: env.databaseUrl, max: 4 });
  cleanup.add(() => db.$disconnect());
  const log = createLogger({ level: 'silent' });
  const server = createLocationSubgraph({ db, log, contextSecret: env.contextSecret, pubsub });
  const port = await server.start(0);
  cleanup.add(() => server.stop());
  call = subgraphClient(`http://127.0.0.1:${port}/graphql`, env.contextSecret);
  const ahead = createLocationSubgraph({
    db,
    log,
    contextSecret: env.contextSecret,
    now: () => new Date(Date.now() + 601_000),
  });
  const aheadPort = await ahead.start(0);
  cleanup.add(() => ahead.stop());
  later = subgraphClient(`http://127.0.0.1:${aheadPort}/graphql`, env.contextSecret);
  t1 = (await createTestTenant(db, 'fleet')).id;
  t2 = (await createTestTenant(db, 'fleet')).id;
  admin = await createUser(db, t1, 'TENANT_ADMIN');
  alice = await createUser(db, t1, 'MEMBER');
  bob = await createUser(db, t1, 'MEMBER');
  other = await createUser(db, t2, 'TENANT_ADMIN');
});
afterAll(() => cleanup.run());

const START = 'mutation($d: String) { startLocationSession(input: { deviceId: $d }) { id } }';
const STOP = 'mutation($id: ID!) { stopLocationSession(id: $id) { id status } }';
const RECORD = `mutation($s: ID!, $l: LocationInput!) { recordLocation(sessionId: $s, location: $l) { id } }`;
const BATCH = `mutation($s: ID!, $ls: [LocationInput!]!) {
  recordLocations(sessionId: $s, locations: $ls) { accepted duplicates filtered { reason count } }
}`;
const SUMMARY = `query($id: ID!) { locationSession(id: $id) { pointCount summary {
  distanceMeters durationSeconds movingSeconds maxSpeed averageSpeed
  stops { latitude longitude startedAt endedAt durationSeconds } } } }`;
const DEVICES = `query($online: Boolean, $first: Int, $after: String) { devices(online: $online, first: $first, after: $after) {
  edges { cursor node { deviceId user { id } online lastSeenAt lastPoint { id latitude recordedAt } activeSession { id } } }
  pageInfo { hasNextPage endCursor } } }`;
const LATEST = 'query($s: ID) { liveLatestLocationPointIds(sessionId: $s) }';

type Batch = {
  recordLocations: { accepted: number; duplicates: number; filtered: { reason: string; count: number }[] };
};
type Summary = {
  locationSession: {
    pointCount: number;
    summary: {
      distanceMeters: number;
      durationSeconds: number;
      movingSeconds: number;
      maxSpeed: number | null;
      averageSpeed: number | null;
      stops: {
        latitude: number;
        longitude: number;
        startedAt: string;
        endedAt: string | null;
        durationSeconds: number;
      }[];
    };
  };
};
type Devices = {
  devices: {
    edges: {
      cursor: string;
      node: {
        deviceId: string;
        user: { id: string };
        online: boolean;
        lastSeenAt: string;
        lastPoint: { id: string; latitude: number; recordedAt: string } | null;
        activeSession: { id: string } | null;
      };
    }[];
    pageInfo: { hasNextPage: boolean; endCursor: string | null };
  };
};

async function start(m: Membership, deviceId?: string): Promise<string> {
  const r = await call<{ startLocationSession: { id: string } }>(m, START, { d: deviceId ?? null });
  expect(r.errors).toBeUndefined();
  return r.data!.startLocationSession.id;
}

async function settings(tenantId: string, s: { acc?: number | null; speed?: number | null; dup?: boolean }) {
  await withTenant(db, tenantId, (tx) =>
    tx.tenant.update({
      where: { id: tenantId },
      data: { maxAccuracyMeters: s.acc ?? null, maxSpeedMps: s.speed ?? null, dropDuplicates: s.dup ?? false },
    }),
  );
}

const pointCount = (tenantId: string, sessionId: string) =>
  withTenant(db, tenantId, (tx) => tx.locationPoint.count({ where: { sessionId } }));
const outboxCount = (tenantId: string, sessionId: string) =>
  withTenant(db, tenantId, (tx) =>
    tx.outbox.count({ where: { key: `${tenantId}:${sessionId}`, type: 'location.recorded.v1' } }),
  );

const iso = (ms: number) => new Date(ms).toISOString();
/** Metres along a meridian between two latitudes: R·|Δφ| (the exact great-circle distance there). */
const meridian = (dLatDeg: number) => (6_371_008.8 * Math.abs(dLatDeg) * Math.PI) / 180;

describe('ingest filters (tenant settings)', () => {
  it('unset settings filter nothing: identical, inaccurate and fast points are all stored', async () => {
    await settings(t1, {});
    const s = await start(alice);
    const t = Date.now() + 1_000;
    const r = await call<Batch>(alice, BATCH, {
      s,
      ls: [
        { latitude: 1, longitude: 1, accuracy: 5000, recordedAt: iso(t) },
        { latitude: 1, longitude: 1, accuracy: 5000, recordedAt: iso(t + 1000) },
        { latitude: 2, longitude: 1, recordedAt: iso(t + 2000) },
      ],
    });
    expect(r.data!.recordLocations).toEqual({ accepted: 3, duplicates: 0, filtered: [] });
  });

  it('each filter drops its points, counts them by reason, writes and emits nothing for them', async () => {
    await settings(t1, { acc: 20, speed: 50, dup: true });
    try {
      const s = await start(alice);
      const got: LiveEvent[] = [];
      const off = await pubsub.subscribe(tenantChannel(t1, 'live'), (m) => got.push(parseLiveEvent(m)!));
      const t = Date.now() + 1_000;
      const ls = [
        { latitude: 52, longitude: 13, accuracy: 10, recordedAt: iso(t) }, // kept
        { latitude: 52, longitude: 13, accuracy: 50, recordedAt: iso(t + 1000) }, // ACCURACY
        { latitude: 52, longitude: 13, accuracy: 10, recordedAt: iso(t + 2000) }, // DUPLICATE of the first
        { latitude: 52.01, longitude: 13, recordedAt: iso(t + 3000) }, // SPEED: 1.1 km in 3 s
        { latitude: 52.0001, longitude: 13, recordedAt: iso(t + 4000) }, // kept: 11 m in 4 s
        { latitude: 52.01, longitude: 13, recordedAt: iso(t + 100_000) }, // kept: 1.1 km in 96 s
      ];
      const r = await call<Batch>(alice, BATCH, { s, ls });
      expect(r.errors).toBeUndefined();
      expect(r.data!.recordLocations).toEqual({
        accepted: 3,
        duplicates: 0,
        filtered: [
          { reason: 'ACCURACY', count: 1 },
          { reason: 'SPEED', count: 1 },
          { reason: 'DUPLICATE', count: 1 },
        ],
      });
      expect(await pointCount(t1, s)).toBe(3);
      expect(await outboxCount(t1, s)).toBe(3);
      // A single filtered point: BAD_USER_INPUT with its reason, nothing written or announced.
      const one = await call(alice, RECORD, {
        s,
        l: { latitude: 52.01, longitude: 13, accuracy: 99, recordedAt: iso(t + 101_000) },
      });
      expect(firstError(one)).toMatchObject({ code: 'BAD_USER_INPUT', reason: 'ACCURACY', field: 'location' });
      const fast = await call(alice, RECORD, { s, l: { latitude: 53, longitude: 13, recordedAt: iso(t + 102_000) } });
      expect(firstError(fast)).toMatchObject({ code: 'BAD_USER_INPUT', reason: 'SPEED' });
      // A later, accepted point is the marker that every earlier announcement has arrived.
      const marker = await call(alice, RECORD, {
        s,
        l: { latitude: 52.0101, longitude: 13, recordedAt: iso(t + 103_000) },
      });
      expect(marker.errors).toBeUndefined();
      await waitFor(() =>
        got.some(
          (e) =>
            e.kind === 'location' &&
            e.points.some((p) => p.id === (marker.data as { recordLocation: { id: string } }).recordLocation.id),
        ),
      );
      await off();
      const announced = got.flatMap((e) => (e.kind === 'location' && e.sessionId === s ? e.points : []));
      expect(announced).toHaveLength(4);
      expect(await pointCount(t1, s)).toBe(4);
      expect(await outboxCount(t1, s)).toBe(4);
      // A retry of a stored point is a duplicate (retry), not a filtered DUPLICATE.
      const retry = await call<Batch>(alice, BATCH, { s, ls: [ls[0]] });
      expect(retry.data!.recordLocations).toEqual({ accepted: 0, duplicates: 1, filtered: [] });
    } finally {
      await settings(t1, {});
    }
  });
});

describe('session summary and stops', () => {
  /**
   * A hand-computed track on the 13° meridian: 4 moves of 0.001° north (10 s apart), a stop of
   * 160 s at 52.004 (jitter of 0.00005° ≈ 5.6 m, within the 50 m radius), then 2 moves north.
   */
  function track(t0: number) {
    const pts: { latitude: number; longitude: number; speed: number; recordedAt: string }[] = [];
    const lat: number[] = [];
    for (let i = 0; i <= 4; i++) lat.push(52 + i * 0.001); // t0 … t0+40
    for (let i = 1; i <= 16; i++) lat.push(52.004 + (i % 2) * 0.00005); // t0+50 … t0+200
    lat.push(52.005, 52.006); // t0+210, t0+220
    lat.forEach((l, i) =>
      pts.push({ latitude: l, longitude: 13, speed: i === 21 ? 11.5 : 5, recordedAt: iso(t0 + i * 10_000) }),
    );
    let distance = 0;
    for (let i = 1; i < lat.length; i++) distance += meridian(lat[i]! - lat[i - 1]!);
    return { pts, distance };
  }

  function expectTrack(s: Summary['locationSession'], t0: number, distance: number) {
    expect(s.pointCount).toBe(23);
    expect(Math.abs(s.summary.distanceMeters - distance) / distance).toBeLessThan(0.005);
    expect(s.summary).toMatchObject({ durationSeconds: 220, movingSeconds: 60, maxSpeed: 11.5 });
    expect(s.summary.averageSpeed).toBeCloseTo(s.summary.distanceMeters / 60, 6);
    expect(s.summary.stops).toEqual([
      {
        latitude: 52.004,
        longitude: 13,
        startedAt: iso(t0 + 40_000),
        endedAt: iso(t0 + 200_000),
        durationSeconds: 160,
      },
    ]);
  }

  it('in order, in small batches: distance within 0.5 % of the hand-computed one, one stop of 160 s', async () => {
    const s = await start(alice);
    const t0 = Date.now() + 1_000;
    const { pts, distance } = track(t0);
    for (let i = 0; i < pts.length; i += 4) {
      const r = await call<Batch>(alice, BATCH, { s, ls: pts.slice(i, i + 4) });
      expect(r.errors).toBeUndefined();
    }
    const r = await call<Summary>(alice, SUMMARY, { id: s });
    expectTrack(r.data!.locationSession, t0, distance);
  });

  it('out of order and with duplicates: the same summary as in order', async () => {
    const s = await start(alice);
    const t0 = Date.now() + 1_000;
    const { pts, distance } = track(t0);
    // The end first, then the middle of the stop, then the start, then everything again (retries).
    const order = [pts.slice(18), pts.slice(8, 12), pts.slice(0, 8), pts.slice(12, 18), pts.slice(0, 23)];
    for (const ls of order) expect((await call<Batch>(alice, BATCH, { s, ls })).errors).toBeUndefined();
    for (const p of [pts[5]!, pts[20]!]) await call(alice, RECORD, { s, l: p });
    const r = await call<Summary>(alice, SUMMARY, { id: s });
    expectTrack(r.data!.locationSession, t0, distance);
  });

  it('an ongoing stop has no end while the session is ACTIVE; once ended it ends at its last point', async () => {
    const s = await start(alice);
    const t0 = Date.now() + 1_000;
    const ls = [0, 60, 130].map((sec) => ({ latitude: 10, longitude: 10, recordedAt: iso(t0 + sec * 1000) }));
    await call(alice, BATCH, { s, ls });
    const active = await call<Summary>(alice, SUMMARY, { id: s });
    expect(active.data!.locationSession.summary).toMatchObject({
      distanceMeters: 0,
      durationSeconds: 130,
      movingSeconds: 0,
      maxSpeed: null,
      averageSpeed: null,
      stops: [{ startedAt: iso(t0), endedAt: null, durationSeconds: 130 }],
    });
    await call(alice, STOP, { id: s });
    const ended = await call<Summary>(alice, SUMMARY, { id: s });
    expect(ended.data!.locationSession.summary.stops).toEqual([
      { latitude: 10, longitude: 10, startedAt: iso(t0), endedAt: iso(t0 + 130_000), durationSeconds: 130 },
    ]);
  });

  it('a session without points has an empty summary', async () => {
    const s = await start(alice);
    const r = await call<Summary>(alice, SUMMARY, { id: s });
    expect(r.data!.locationSession.summary).toEqual({
      distanceMeters: 0,
      durationSeconds: 0,
      movingSeconds: 0,
      maxSpeed: null,
      averageSpeed: null,
      stops: [],
    });
  });
});

describe('devices', () => {
  it('state from sessions and points; MEMBERs see their own; online/offline; activeSession ends with the session', async () => {
    const dev = `van-${Date.now()}`;
    const s1 = await start(alice, dev);
    const sb = await start(bob, `${dev}-b`);
    const t = Date.now() + 1_000;
    await call(alice, BATCH, {
      s: s1,
      ls: [
        { latitude: 1, longitude: 1, recordedAt: iso(t + 2000) },
        { latitude: 2, longitude: 1, recordedAt: iso(t + 1000) },
      ],
    });
    // A late point does not replace the newest one.
    await call(alice, RECORD, { s: s1, l: { latitude: 3, longitude: 1, recordedAt: iso(t) } });
    await call(bob, RECORD, { s: sb, l: { latitude: 4, longitude: 1, recordedAt: iso(t) } });

    const mine = await call<Devices>(alice, DEVICES, {});
    expect(mine.errors).toBeUndefined();
    expect(mine.data!.devices.edges.map((e) => e.node.deviceId)).toEqual([dev]);
    expect(mine.data!.devices.edges[0]!.node).toMatchObject({
      user: { id: alice.userId },
      online: true,
      lastPoint: { latitude: 1, recordedAt: iso(t + 2000) },
      activeSession: { id: s1 },
    });
    const all = await call<Devices>(admin, DEVICES, { first: 100 });
    const names = all.data!.devices.edges.map((e) => e.node.deviceId);
    expect(names).toEqual(expect.arrayContaining([dev, `${dev}-b`]));
    // Offline once DEVICE_OFFLINE_AFTER_SECONDS have passed (the subgraph's clock 601 s ahead).
    const offline = await later<Devices>(admin, DEVICES, { online: false, first: 100 });
    expect(offline.data!.devices.edges.map((e) => e.node.deviceId)).toEqual(expect.arrayContaining([dev, `${dev}-b`]));
    expect(offline.data!.devices.edges.every((e) => !e.node.online)).toBe(true);
    const online = await later<Devices>(admin, DEVICES, { online: true, first: 100 });
    expect(online.data!.devices.edges.map((e) => e.node.deviceId)).not.toContain(dev);
    expect(
      (await call<Devices>(admin, DEVICES, { online: false, first: 100 })).data!.devices.edges.map(
        (e) => e.node.deviceId,
      ),
    ).not.toContain(dev);

    await call(alice, STOP, { id: s1 });
    const stopped = await call<Devices>(alice, DEVICES, {});
    expect(stopped.data!.devices.edges[0]!.node).toMatchObject({
      deviceId: dev,
      activeSession: null,
      lastPoint: { latitude: 1 },
    });
  });

  it('pages most recently seen first with a cursor', async () => {
    const page1 = await call<Devices>(admin, DEVICES, { first: 1 });
    expect(page1.data!.devices.pageInfo.hasNextPage).toBe(true);
    const page2 = await call<Devices>(admin, DEVICES, { first: 1, after: page1.data!.devices.pageInfo.endCursor });
    const a = page1.data!.devices.edges[0]!.node;
    const b = page2.data!.devices.edges[0]!.node;
    expect(a.deviceId).not.toBe(b.deviceId);
    expect(a.lastSeenAt >= b.lastSeenAt).toBe(true);
  });
});

describe('subscription snapshot ids', () => {
  it('the latest point of each ACTIVE session in scope; MEMBERs their own only', async () => {
    const s1 = await start(alice);
    const s2 = await start(bob);
    const t = Date.now() + 1_000;
    await call(alice, BATCH, {
      s: s1,
      ls: [
        { latitude: 1, longitude: 1, recordedAt: iso(t) },
        { latitude: 2, longitude: 1, recordedAt: iso(t + 1) },
      ],
    });
    const last1 = await call<{ recordLocation: { id: string } }>(alice, RECORD, {
      s: s1,
      l: { latitude: 3, longitude: 1, recordedAt: iso(t + 2) },
    });
    const last2 = await call<{ recordLocation: { id: string } }>(bob, RECORD, {
      s: s2,
      l: { latitude: 3, longitude: 1, recordedAt: iso(t) },
    });
    const id1 = last1.data!.recordLocation.id;
    const id2 = last2.data!.recordLocation.id;
    const adminIds = (await call<{ liveLatestLocationPointIds: string[] }>(admin, LATEST, {})).data!
      .liveLatestLocationPointIds;
    expect(adminIds).toEqual(expect.arrayContaining([id1, id2]));
    const aliceIds = (await call<{ liveLatestLocationPointIds: string[] }>(alice, LATEST, {})).data!
      .liveLatestLocationPointIds;
    expect(aliceIds).toContain(id1);
    expect(aliceIds).not.toContain(id2);
    expect(
      (await call<{ liveLatestLocationPointIds: string[] }>(admin, LATEST, { s: s2 })).data!.liveLatestLocationPointIds,
    ).toEqual([id2]);
    await call(bob, STOP, { id: s2 });
    expect(
      (await call<{ liveLatestLocationPointIds: string[] }>(admin, LATEST, { s: s2 })).data!.liveLatestLocationPointIds,
    ).toEqual([]);
  });
});

describe('tenant isolation of every new query', () => {
  it("another tenant's admin sees none of our devices, summaries or snapshot ids", async () => {
    const dev = `iso-${Date.now()}`;
    const s = await start(alice, dev);
    const rec = await call<{ recordLocation: { id: string } }>(alice, RECORD, {
      s,
      l: { latitude: 7.123, longitude: 8.456, recordedAt: iso(Date.now() + 1000) },
    });
    const pid = rec.data!.recordLocation.id;
    const devices = await call<Devices>(other, DEVICES, { first: 100 });
    expect(devices.errors).toBeUndefined();
    const text = JSON.stringify(devices.data);
    for (const leak of [dev, s, pid, alice.userId, '7.123']) expect(text).not.toContain(leak);
    const summary = await call(other, SUMMARY, { id: s });
    expect(firstError(summary)).toMatchObject({ code: 'NOT_FOUND' });
    expect(JSON.stringify(summary.data)).not.toContain('7.123');
    const latest = await call<{ liveLatestLocationPointIds: string[] }>(other, LATEST, { s });
    expect(latest.data!.liveLatestLocationPointIds).toEqual([]);
    const all = await call<{ liveLatestLocationPointIds: string[] }>(other, LATEST, {});
    expect(all.data!.liveLatestLocationPointIds).not.toContain(pid);
    const entity = await call<{ _entities: unknown[] }>(
      other,
      'query($r: [_Any!]!) { _entities(representations: $r) { ... on LocationSession { id summary { distanceMeters } } } }',
      { r: [{ __typename: 'LocationSession', id: s }] },
    );
    expect(entity.data!._entities).toEqual([null]);
  });
});
