/**
 * The point write statement builds `location.recorded.v1` payloads in SQL; the TypeScript builder
 * builds the same contract. Both come from `POINT_FIELDS`: this checks they agree on the wire
 * (Postgres renders the numbers and times, JSON carries them) for random points.
 */
import fc from 'fast-check';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createDb, type Db } from '@lt/db';
import { testEnv } from '@lt/testing';
import { POINT_FIELDS, POINT_FIELD_NAMES, locationUpdates } from '../src/index';
import { id, point, wire } from './arbitraries';

const CAST = { id: 'text', number: 'float8', 'number?': 'float8', time: 'timestamptz' } as const;

describe('location.recorded.v1 built in SQL', () => {
  let db: Db;
  beforeAll(() => {
    db = createDb({ url: testEnv().databaseUrl, max: 2 });
  });
  afterAll(async () => {
    await db.$disconnect();
  });

  it('equals the TypeScript builder on the wire', async () => {
    const row = POINT_FIELD_NAMES.map((f, i) => `$${i + 3}::${CAST[POINT_FIELDS[f].kind]} AS "${f}"`).join(', ');
    const sql = `SELECT ${locationUpdates.payloadSql('$1::text', '$2::text', 'i')} AS p FROM (SELECT ${row}) i`;
    const samples = fc.sample(fc.tuple(id, id, point), 40);
    for (const [sessionId, userId, p] of samples) {
      const params = POINT_FIELD_NAMES.map((f) => {
        const v = p[f];
        return v instanceof Date ? v.toISOString() : v;
      });
      const [got] = await db.$queryRawUnsafe<{ p: unknown }[]>(sql, sessionId, userId, ...params);
      expect(wire(got!.p)).toEqual(wire(locationUpdates.payload(sessionId, userId, p)));
      expect(locationUpdates.validate(got!.p).ok).toBe(true);
    }
  });
});
