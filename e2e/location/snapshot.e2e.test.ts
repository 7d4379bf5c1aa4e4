/**
 * Snapshot on subscribe through a real router: `locationUpdated(includeLatest: true)` first sends
 * the latest point of each matching ACTIVE session (in the caller's scope only), then live updates,
 * with nothing missed and nothing repeated between the two even while points are being recorded.
 */
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import type { AuthedStack, TestUser } from '../support/identity';
import { LiveSocket } from './liveSocket';
import { LiveClients, startLiveWorld } from './liveWorld';

let stack: AuthedStack;
let adminA: TestUser, alice: TestUser, bob: TestUser, adminB: TestUser;
const live = new LiveClients(() => stack);
const { as } = live;

beforeAll(async () => {
  ({ stack, adminA, alice, bob, adminB } = await startLiveWorld('snap'));
});
afterEach(() => live.closeAll());
afterAll(() => live.stop());

const open = (user: TestUser) => live.open(user);

let clock = Date.now() + 30_000;
const at = () => new Date((clock += 1_000)).toISOString();
const start = async (user: TestUser) =>
  (await as<{ startLocationSession: { id: string } }>(user, 'mutation { startLocationSession { id } }'))
    .startLocationSession.id;
const record = async (user: TestUser, s: string, latitude: number) =>
  (
    await as<{ recordLocation: { id: string } }>(
      user,
      'mutation($s: ID!, $l: LocationInput!) { recordLocation(sessionId: $s, location: $l) { id } }',
      { s, l: { latitude, longitude: 1, recordedAt: at() } },
    )
  ).recordLocation.id;

const SUB = `subscription($s: ID, $latest: Boolean) { locationUpdated(sessionId: $s, includeLatest: $latest) {
  session { id user { email } } point { id latitude } } }`;
type Update = {
  locationUpdated: { session: { id: string; user: { email: string } }; point: { id: string; latitude: number } };
};

/** Reads `id`'s updates until the point `until` arrives (bounded: at most `max` messages). */
async function readUntil(w: LiveSocket, id: string, until: string, max = 200): Promise<Update['locationUpdated'][]> {
  const got: Update['locationUpdated'][] = [];
  for (let i = 0; i < max; i++) {
    const m = await w.next<Update>(id);
    expect(m.errors).toBeUndefined();
    got.push(m.data.locationUpdated);
    if (m.data.locationUpdated.point.id === until) return got;
  }
  throw new Error(`point ${until} did not arrive in ${max} messages`);
}

describe('locationUpdated(includeLatest: true)', () => {
  it("first the latest point of each ACTIVE session in scope (never an ended session's or another tenant's), then live", async () => {
    const s1 = await start(alice);
    const s2 = await start(bob);
    const ended = await start(alice);
    const foreign = await start(adminB);
    await record(alice, s1, 1);
    const p1 = await record(alice, s1, 2);
    const p2 = await record(bob, s2, 3);
    await record(alice, ended, 4);
    await as(alice, 'mutation($id: ID!) { stopLocationSession(id: $id) { id } }', { id: ended });
    await record(adminB, foreign, 5);

    const w = await open(adminA);
    w.subscribe('a', SUB, { latest: true });
    const m = await open(alice);
    m.subscribe('m', SUB, { latest: true });
    const one = await open(adminA);
    one.subscribe('o', SUB, { s: s2, latest: true });
    // The snapshot comes first; a point recorded afterwards is the marker that it is complete.
    const snapA = [(await w.next<Update>('a')).data.locationUpdated, (await w.next<Update>('a')).data.locationUpdated];
    expect(snapA.map((u) => u.point.id).sort()).toEqual([p1, p2].sort());
    expect(snapA.find((u) => u.point.id === p1)!.session.user.email).toBe(alice.email);
    expect((await m.next<Update>('m')).data.locationUpdated.point.id).toBe(p1);
    expect((await one.next<Update>('o')).data.locationUpdated.point.id).toBe(p2);
    const live = await record(bob, s2, 6);
    expect((await w.next<Update>('a')).data.locationUpdated.point.id).toBe(live);
    expect((await one.next<Update>('o')).data.locationUpdated.point.id).toBe(live);
    const mine = await record(alice, s1, 7);
    expect((await m.next<Update>('m')).data.locationUpdated.point.id).toBe(mine);
    const foreignLive = await record(adminB, foreign, 8);
    const marker = await record(alice, s1, 9);
    const rest = await readUntil(w, 'a', marker);
    expect(rest.map((u) => u.point.id)).toEqual([mine, marker]);
    expect(JSON.stringify(rest)).not.toContain(foreignLive);
  });

  it('without includeLatest nothing is sent before the first live point', async () => {
    const s = await start(alice);
    await record(alice, s, 10);
    const w = await open(alice);
    w.subscribe('n', SUB, { s, latest: false });
    // The subscription is live once points recorded after it arrive: record until one does.
    for (let i = 0; i < 50 && w.pending('n').length === 0; i++) await record(alice, s, 11 + i);
    const got = await w.next<Update>('n');
    expect(got.data.locationUpdated.point.latitude).toBeGreaterThan(10);
  });

  it('points recorded while subscribing arrive exactly once, in order, after the snapshot', async () => {
    const s = await start(alice);
    await record(alice, s, 0);
    const w = await open(adminA);
    const ids: string[] = [];
    // Records 25 points one after the other while the subscription (and its snapshot) happens.
    const writer = (async () => {
      for (let i = 1; i <= 25; i++) ids.push(await record(alice, s, i));
    })();
    w.subscribe('c', SUB, { s, latest: true });
    await writer;
    const marker = await record(alice, s, 26);
    ids.push(marker);
    const got = await readUntil(w, 'c', marker);
    const lats = got.map((u) => u.point.latitude);
    // The snapshot (the latest point when it was read) comes first; then every later point exactly
    // once and in order. A point committed during the subscribe whose live event was still on its
    // way may follow the snapshot once although older (documented); no point ever comes twice.
    const from = lats[0]!;
    expect(new Set(lats).size).toBe(lats.length);
    const later = lats.slice(1).filter((l) => l > from);
    expect(later).toEqual(Array.from({ length: 26 - from }, (_, i) => from + 1 + i));
  });
});
