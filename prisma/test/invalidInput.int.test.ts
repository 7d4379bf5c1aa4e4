/**
 * The backstop behind input validation, against real Postgres through Prisma: values Postgres
 * refuses (a NUL character in text, a date-time it cannot hold, a non-UUID id) are recognised by
 * isInvalidInputDatabaseError, and the subgraphs' error masking answers them BAD_USER_INPUT
 * instead of INTERNAL_SERVER_ERROR. Other failures are not.
 */
import { randomUUID } from 'node:crypto';
import { GraphQLError } from 'graphql';
import { afterAll, describe, expect, it } from 'vitest';
import { createDb, isInvalidInputDatabaseError, isTransientDatabaseError, withPlatform, withSystem } from '@lt/db';
import { maskError } from '@lt/errors';
import { testEnv } from '@lt/testing';

const db = createDb({ url: testEnv().databaseUrl, max: 1 });
afterAll(() => db.$disconnect());

async function failure(p: Promise<unknown>): Promise<unknown> {
  try {
    await p;
  } catch (err) {
    return err;
  }
  throw new Error('expected a failure');
}

const masked = (err: unknown) =>
  maskError({ message: 'x', path: ['f'] }, new GraphQLError('x', { originalError: err as Error }), {
    transient: isTransientDatabaseError,
    badInput: isInvalidInputDatabaseError,
  });

describe('isInvalidInputDatabaseError', () => {
  it.each([
    [
      'a NUL character in a stored name (22021)',
      () =>
        withPlatform(db, (tx) =>
          tx.tenant.create({ data: { name: 'a\u0000b', slug: `nul-${randomUUID().slice(0, 8)}` } }),
        ),
    ],
    [
      'a NUL character in a text parameter (22021)',
      () => withSystem(db, (tx) => tx.$queryRawUnsafe('SELECT $1::text', 'a\u0000')),
    ],
    [
      'year 0000 (22008)',
      () => withSystem(db, (tx) => tx.$queryRawUnsafe('SELECT $1::timestamptz', '0000-01-01T00:00:00Z')),
    ],
    [
      'a malformed date-time (22007)',
      () => withSystem(db, (tx) => tx.$queryRawUnsafe('SELECT $1::timestamptz', 'now-ish')),
    ],
    ['a non-UUID id (22P02)', () => withSystem(db, (tx) => tx.$queryRawUnsafe('SELECT $1::uuid', 'abc'))],
  ])('recognises %s, answered BAD_USER_INPUT', async (_what, run) => {
    const err = await failure(run());
    expect(isInvalidInputDatabaseError(err)).toBe(true);
    expect(masked(err)).toEqual({
      message: 'Invalid input value',
      path: ['f'],
      extensions: { code: 'BAD_USER_INPUT' },
    });
  });

  it('does not claim constraint violations, programming errors or anything else', async () => {
    const slug = `inv-${randomUUID().slice(0, 8)}`;
    await withPlatform(db, (tx) => tx.tenant.create({ data: { name: slug, slug } }));
    const dup = await failure(withPlatform(db, (tx) => tx.tenant.create({ data: { name: slug, slug } })));
    const missing = await failure(withSystem(db, (tx) => tx.$queryRawUnsafe('SELECT * FROM no_such_table')));
    for (const err of [dup, missing, new TypeError('x'), null]) {
      expect(isInvalidInputDatabaseError(err)).toBe(false);
      expect(masked(err).extensions?.['code']).toBe('INTERNAL_SERVER_ERROR');
    }
  });
});
