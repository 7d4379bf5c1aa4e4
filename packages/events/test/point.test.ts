import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import {
  POINT_FIELD_NAMES,
  pointColumnsSql,
  pointJsonArgsSql,
  pointPayload,
  pointSelect,
  validatePoint,
} from '../src/point';
import { junk, point, wire } from './arbitraries';

describe('point contract', () => {
  it('declares the fields of LocationPoint, in wire order', () => {
    expect(POINT_FIELD_NAMES).toEqual([
      'id',
      'latitude',
      'longitude',
      'accuracy',
      'altitude',
      'speed',
      'heading',
      'recordedAt',
      'receivedAt',
    ]);
    expect(Object.keys(pointSelect)).toEqual(POINT_FIELD_NAMES);
  });

  it('builder output always validates, and validates to itself (round trip over the wire)', () => {
    fc.assert(
      fc.property(point, (p) => {
        const payload = pointPayload(p);
        expect(JSON.stringify(Object.keys(payload))).toBe(JSON.stringify(POINT_FIELD_NAMES));
        expect(payload.recordedAt).toBe(p.recordedAt.toISOString());
        const back = validatePoint(wire(payload));
        expect(back).toEqual({ ok: true, value: wire(payload) });
      }),
    );
  });

  it('random junk never throws: it is refused with a reason', () => {
    fc.assert(
      fc.property(junk, (v) => {
        const r = validatePoint(v);
        if (!r.ok) expect(r.error).toMatch(/^point/);
        else expect(Object.keys(r.value)).toEqual(POINT_FIELD_NAMES);
      }),
    );
  });

  it('refuses a missing field, a wrong type, an out-of-bounds string; drops unknown keys', () => {
    fc.assert(
      fc.property(point, fc.constantFrom(...POINT_FIELD_NAMES), (p, field) => {
        const ok = wire(pointPayload(p)) as Record<string, unknown>;
        const { [field]: _gone, ...missing } = ok;
        expect(validatePoint(missing)).toEqual({
          ok: false,
          error: expect.stringMatching(`^point\\.${field}: expected`),
        });
        expect(validatePoint({ ...ok, [field]: { nested: true } }).ok).toBe(false);
        expect(validatePoint({ ...ok, [field]: 'x'.repeat(201) }).ok).toBe(false);
        expect(validatePoint({ ...ok, extra: 'x'.repeat(100_000) })).toEqual({ ok: true, value: ok });
      }),
      { numRuns: 50 },
    );
    const p = wire(pointPayload(fc.sample(point, 1)[0]!)) as Record<string, unknown>;
    expect(validatePoint({ ...p, latitude: Infinity }).ok).toBe(false);
    expect(validatePoint({ ...p, accuracy: NaN }).ok).toBe(false);
    expect(validatePoint({ ...p, recordedAt: 'yesterday' }).ok).toBe(false);
    expect(validatePoint({ ...p, accuracy: null })).toMatchObject({ ok: true, value: { accuracy: null } });
  });

  it('SQL lists are generated from the same fields', () => {
    expect(pointColumnsSql).toBe(
      'id, latitude, longitude, accuracy, altitude, speed, heading, recorded_at AS "recordedAt", received_at AS "receivedAt"',
    );
    const args = pointJsonArgsSql((f) => `i."${f}"`, { id: 'pointId' });
    expect([...args.matchAll(/'(\w+)', (?!'YYYY)/g)].map((m) => m[1])).toEqual([
      'pointId',
      ...POINT_FIELD_NAMES.filter((f) => f !== 'id'),
    ]);
    expect(args).toContain(
      `'recordedAt', to_char((i."recordedAt") AT TIME ZONE 'UTC', 'YYYY-MM-DD"T"HH24:MI:SS.MS"Z"')`,
    );
    expect(args).toContain(`'latitude', i."latitude"`);
  });
});
