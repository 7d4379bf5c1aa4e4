import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import {
  Topic,
  deadLetters,
  eventKey,
  geofenceEvents,
  locationUpdates,
  sessionEvents,
  tenantEvents,
  topicOfType,
  topics,
  validateEnvelope,
  validateEvent,
  type TopicContract,
} from '../src/index';
import { date, id, junk, num, optNum, point, wire } from './arbitraries';

const text = fc.string({ minLength: 1, maxLength: 100 });

/** One generator of built payloads per topic (builder applied to a random domain object). */
const built: Record<string, fc.Arbitrary<{ type: string; data: Record<string, unknown> }>> = {
  [locationUpdates.name]: fc
    .tuple(id, id, point)
    .map(([s, u, p]) => ({ type: 'location.recorded.v1', data: locationUpdates.payload(s, u, p) })),
  [sessionEvents.name]: fc
    .record({
      id,
      tenantId: id,
      userId: id,
      deviceId: fc.option(text, { nil: null }),
      startedAt: date,
      endedAt: fc.option(date, { nil: null }),
    })
    .chain((s) =>
      fc
        .constantFrom(...sessionEvents.types)
        .map((type) => ({ type, data: sessionEvents.event(type, s, new Date()).data })),
    ),
  [tenantEvents.name]: fc
    .record({
      id,
      name: text,
      slug: text,
      status: fc.constantFrom('ACTIVE' as const, 'SUSPENDED' as const),
      updatedAt: date,
    })
    .chain((t) =>
      fc
        .tuple(fc.constantFrom(...tenantEvents.types), fc.option(fc.array(text, { maxLength: 5 }), { nil: undefined }))
        .map(([type, changed]) => ({ type, data: tenantEvents.event(type, t, changed).data })),
    ),
  [geofenceEvents.name]: fc
    .tuple(
      id,
      id,
      fc.record({
        geofenceId: id,
        type: fc.constantFrom('ENTER' as const, 'EXIT' as const, 'DWELL' as const),
        point: fc.record({
          id,
          latitude: num,
          longitude: num,
          accuracy: optNum,
          recordedAt: date.map((d) => d.getTime()),
        }),
      }),
    )
    .map(([s, u, t]) => ({
      type: geofenceEvents.typeOf[t.type],
      data: geofenceEvents.payload(s, u, t) as unknown as Record<string, unknown>,
    })),
  [deadLetters.name]: fc
    .record(
      {
        deliveryId: id,
        sinkId: id,
        tenantId: id,
        attempts: fc.nat(100),
        lastStatusCode: fc.option(fc.integer({ min: 100, max: 599 }), { nil: null }),
        lastError: fc.option(text, { nil: null }),
        deadAt: date.map((d) => d.toISOString()),
        event: fc.jsonValue(),
        batchId: id,
      },
      {
        requiredKeys: [
          'deliveryId',
          'sinkId',
          'tenantId',
          'attempts',
          'lastStatusCode',
          'lastError',
          'deadAt',
          'event',
        ],
      },
    )
    .map((l) => ({ type: 'webhook.dead-lettered.v1', data: deadLetters.event(l, new Date()).data })),
};

const contracts = Object.values(topics) as TopicContract[];

describe('topic registry', () => {
  it('every topic is registered under its name, and Topic names exactly the registry', () => {
    expect(Object.keys(topics).sort()).toEqual(Object.values(Topic).sort());
    for (const [name, c] of Object.entries(topics)) expect(c.name).toBe(name);
    expect(Object.keys(built).sort()).toEqual(Object.keys(topics).sort());
  });

  it('each event type belongs to exactly one topic', () => {
    const all = contracts.flatMap((c) => c.types.map((t) => [t, c.name] as const));
    expect(new Set(all.map(([t]) => t)).size).toBe(all.length);
    for (const [t, name] of all) expect(topicOfType(t)).toBe(name);
    expect(topicOfType('webhook.test.v1')).toBeUndefined();
    expect(topicOfType('location.recorded.v2')).toBeUndefined();
  });

  it('a recorded point is one event on location-updates, keyed by its session, at its receivedAt', () => {
    fc.assert(
      fc.property(id, id, id, point, (t, s, u, p) => {
        const e = locationUpdates.event(t, s, u, p);
        expect(e).toEqual({
          topic: Topic.LOCATION_UPDATES,
          type: 'location.recorded.v1',
          tenantId: t,
          entityId: s,
          occurredAt: p.receivedAt,
          data: locationUpdates.payload(s, u, p),
        });
        expect(e.data).toMatchObject({
          sessionId: s,
          userId: u,
          pointId: p.id,
          recordedAt: p.recordedAt.toISOString(),
        });
        expect(e.data).not.toHaveProperty('id');
      }),
      { numRuns: 20 },
    );
  });

  it('keys: tenant first; per session, per sink or per tenant', () => {
    fc.assert(
      fc.property(id, id, (t, e) => {
        expect(locationUpdates.key(t, e)).toBe(`${t}:${e}`);
        expect(sessionEvents.key(t, e)).toBe(`${t}:${e}`);
        expect(geofenceEvents.key(t, e)).toBe(`${t}:${e}`);
        expect(deadLetters.key(t, e)).toBe(`${t}:${e}`);
        expect(tenantEvents.key(t)).toBe(t);
        expect(eventKey(t)).toBe(t);
      }),
      { numRuns: 20 },
    );
  });
});

describe.each(contracts.map((c) => [c.name, c] as const))('topic %s', (name, contract) => {
  it('builder output always validates to itself, over the wire, with a registered type', () => {
    fc.assert(
      fc.property(built[name]!, ({ type, data }) => {
        expect(contract.types).toContain(type);
        expect(topicOfType(type)).toBe(name);
        expect(contract.validate(wire(data))).toEqual({ ok: true, value: wire(data) });
      }),
      { numRuns: 100 },
    );
  });

  it('random junk never throws: refused with a reason', () => {
    fc.assert(
      fc.property(junk, (v) => {
        const r = contract.validate(v);
        expect(r.ok).toBe(false);
        if (!r.ok) expect(r.error.length).toBeGreaterThan(0);
      }),
      { numRuns: 300 },
    );
  });

  it('refuses a payload missing a field, with a field of the wrong type, or with a huge value', () => {
    fc.assert(
      fc.property(built[name]!, fc.nat(), ({ data }, pick) => {
        const ok = wire(data) as Record<string, unknown>;
        // Optional fields may be left out; every other one is required.
        const required = Object.keys(ok).filter((k) => k !== 'changed' && k !== 'batchId');
        const field = required[pick % required.length]!;
        const { [field]: _gone, ...missing } = ok;
        expect(contract.validate(missing).ok).toBe(false);
        // `event` of a dead letter is whatever could not be delivered: any JSON value.
        if (field !== 'event') {
          expect(contract.validate({ ...ok, [field]: { wrong: [1] } }).ok).toBe(false);
          expect(contract.validate({ ...ok, [field]: 'x'.repeat(100_001) }).ok).toBe(false);
        }
        expect(contract.validate({ ...ok, unknownKey: 'x'.repeat(1_000) })).toEqual({ ok: true, value: ok });
      }),
      { numRuns: 100 },
    );
  });
});

describe('envelope gate', () => {
  const envelope = (type: string, data: Record<string, unknown>) => ({
    id: crypto.randomUUID(),
    tenantId: crypto.randomUUID(),
    type,
    occurredAt: new Date().toISOString(),
    data,
  });

  it('accepts every built event in its envelope; validateEvent checks the payload too', () => {
    for (const name of Object.keys(topics)) {
      fc.assert(
        fc.property(built[name]!, ({ type, data }) => {
          const e = wire(envelope(type, data));
          expect(validateEnvelope(e)).toEqual({ ok: true, value: e });
          expect(validateEnvelope(e, name as keyof typeof topics).ok).toBe(true);
          expect(validateEvent(e)).toEqual({ ok: true, value: e });
        }),
        { numRuns: 20 },
      );
    }
  });

  it('refuses unknown types, a type on another topic, bad ids, times and data; junk never throws', () => {
    const ok = envelope('session.started.v1', { n: 1 });
    expect(validateEnvelope(ok).ok).toBe(true);
    // The envelope gate forwards payloads as written; validateEvent refuses this one.
    expect(validateEvent(ok).ok).toBe(false);
    expect(validateEnvelope({ ...ok, type: 'Bad Type' })).toEqual({
      ok: false,
      error: 'envelope.type: unknown event type',
    });
    expect(validateEnvelope({ ...ok, type: 'webhook.test.v1' }).ok).toBe(false);
    expect(validateEnvelope(ok, Topic.LOCATION_UPDATES).ok).toBe(false);
    expect(validateEnvelope({ ...ok, id: 'x' }).ok).toBe(false);
    expect(validateEnvelope({ ...ok, tenantId: 'x' }).ok).toBe(false);
    expect(validateEnvelope({ ...ok, occurredAt: 'soon' }).ok).toBe(false);
    expect(validateEnvelope({ ...ok, data: [] }).ok).toBe(false);
    fc.assert(
      fc.property(junk, (v) => {
        expect(validateEnvelope(v).ok).toBe(false);
        expect(validateEvent(v).ok).toBe(false);
      }),
      { numRuns: 300 },
    );
  });
});
