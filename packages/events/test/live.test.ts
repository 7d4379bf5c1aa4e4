import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import {
  encodeLiveEvent,
  LIVE_PAYLOAD_MAX_POINTS,
  liveSessionState,
  parseLiveEvent,
  pointPayload,
  type LiveEvent,
} from '../src/index';
import { date, id, junk, point } from './arbitraries';

/** A location event built the way the location subgraph builds it after a commit. */
const locationEvent = fc
  .record({
    tenantId: id,
    sessionId: id,
    userId: id,
    deviceId: fc.option(fc.string({ minLength: 1, maxLength: 50 }), { nil: null }),
    startedAt: date,
    pointCount: fc.nat(1_000_000),
    points: fc.array(point, { minLength: 1, maxLength: LIVE_PAYLOAD_MAX_POINTS }),
    withPayload: fc.boolean(),
  })
  .map((r): LiveEvent => {
    const points = r.points.map(pointPayload);
    return {
      kind: 'location',
      tenantId: r.tenantId,
      sessionId: r.sessionId,
      userId: r.userId,
      points: points.map((p) => ({ id: p.id, recordedAt: p.recordedAt })),
      ...(r.withPayload ? { payload: { session: liveSessionState({ ...r, id: r.sessionId }), points } } : {}),
      publishedAt: Date.now(),
    };
  });

const otherEvent: fc.Arbitrary<LiveEvent> = fc.oneof(
  fc.record({
    kind: fc.constant('session' as const),
    tenantId: id,
    sessionId: id,
    userId: id,
    type: fc.constantFrom('STARTED' as const, 'ENDED' as const),
    at: date.map((d) => d.toISOString()),
    publishedAt: fc.nat(),
  }),
  fc.record({
    kind: fc.constant('gap' as const),
    tenantId: id,
    sessionId: id,
    userId: id,
    of: fc.constantFrom('location' as const, 'session' as const, 'geofence' as const),
    missed: fc.integer({ min: 1, max: 1_000_000 }),
    publishedAt: fc.nat(),
  }),
  fc.record({
    kind: fc.constant('geofence' as const),
    tenantId: id,
    sessionId: id,
    userId: id,
    events: fc.array(fc.record({ id, geofenceId: id }), { minLength: 1, maxLength: 20 }),
    publishedAt: fc.nat(),
  }),
);

describe('live events', () => {
  it('what the builders produce always parses back to itself', () => {
    fc.assert(
      fc.property(fc.oneof(locationEvent, otherEvent), (e) => {
        expect(parseLiveEvent(encodeLiveEvent(e))).toEqual(JSON.parse(encodeLiveEvent(e)));
      }),
      { numRuns: 200 },
    );
  });

  it('the session state after a point commit is ACTIVE, not ended, with ISO times', () => {
    const startedAt = new Date(1_700_000_000_123);
    expect(liveSessionState({ id: 's', userId: 'u', deviceId: null, startedAt, pointCount: 3 })).toEqual({
      id: 's',
      userId: 'u',
      status: 'ACTIVE',
      deviceId: null,
      startedAt: '2023-11-14T22:13:20.123Z',
      endedAt: null,
      pointCount: 3,
    });
  });

  it('random junk (any string, any JSON) never throws: it is refused', () => {
    fc.assert(
      fc.property(
        fc.oneof(
          fc.string(),
          junk.map((v) => JSON.stringify(v) ?? 'undefined'),
        ),
        (m) => {
          expect(parseLiveEvent(m)).toBeNull();
        },
      ),
      { numRuns: 500 },
    );
  });

  it('a payload that disagrees with its event, a wrong field or an oversized batch is refused', () => {
    fc.assert(
      fc.property(
        locationEvent.filter((e) => e.kind === 'location' && e.payload !== undefined && e.points.length > 1),
        fc.constantFrom('owner', 'order', 'missing', 'latitude', 'huge'),
        (e, change) => {
          const v = structuredClone(e) as Extract<LiveEvent, { kind: 'location' }>;
          const p = v.payload!;
          if (change === 'owner') p.session.userId = crypto.randomUUID();
          if (change === 'order') p.points.reverse();
          if (change === 'missing') delete (p.points[0] as Partial<(typeof p.points)[0]>).receivedAt;
          if (change === 'latitude') (p.points[0] as { latitude: unknown }).latitude = '1';
          if (change === 'huge') p.points[0]!.id = 'x'.repeat(100_000);
          expect(parseLiveEvent(encodeLiveEvent(v))).toBeNull();
        },
      ),
      { numRuns: 100 },
    );
    const big = fc.sample(
      locationEvent.filter((e) => e.kind === 'location' && e.payload !== undefined),
      1,
    )[0]!;
    if (big.kind !== 'location' || !big.payload) throw new Error('expected a location event with payload');
    const p0 = big.payload.points[0]!;
    const many = Array.from({ length: LIVE_PAYLOAD_MAX_POINTS + 1 }, (_, i) => ({ ...p0, id: `p${i}` }));
    const over = {
      ...big,
      points: many.map((p) => ({ id: p.id, recordedAt: p.recordedAt })),
      payload: { ...big.payload, points: many },
    };
    expect(parseLiveEvent(encodeLiveEvent(over))).toBeNull();
  });
});
