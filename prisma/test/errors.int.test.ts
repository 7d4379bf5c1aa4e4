/**
 * Failure classification against real Postgres through Prisma: overload and timeouts are
 * transient (the API answers SERVICE_UNAVAILABLE), constraint violations are not.
 */
import { randomUUID } from 'node:crypto';
import { afterAll, describe, expect, it } from 'vitest';
import { createDb, isTransientDatabaseError, isUniqueViolation, withPlatform, withSystem } from '@lt/db';
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

describe('isTransientDatabaseError', () => {
  it('recognises a transaction that cannot get a pooled connection in time', async () => {
    let release!: () => void;
    const held = new Promise<void>((r) => (release = r));
    let holding!: () => void;
    const inTransaction = new Promise<void>((r) => (holding = r));
    // The pool has one connection: hold it in a transaction (and know when it is held).
    const holder = withSystem(db, async (tx) => {
      await tx.$queryRaw`SELECT 1`;
      holding();
      await held;
    });
    await inTransaction;
    const err = await failure(withSystem(db, (tx) => tx.$queryRaw`SELECT 1`, { maxWaitMs: 100 }));
    release();
    await holder;
    expect(isTransientDatabaseError(err)).toBe(true);
  });

  it('recognises a statement timeout', async () => {
    const err = await failure(
      withSystem(db, async (tx) => {
        await tx.$executeRawUnsafe('SET LOCAL statement_timeout = 50');
        await tx.$queryRawUnsafe('SELECT pg_sleep(2)');
      }),
    );
    expect(isTransientDatabaseError(err)).toBe(true);
  });

  it('does not call constraint violations or programming errors transient', async () => {
    const slug = `errs-${randomUUID().slice(0, 8)}`;
    await withPlatform(db, (tx) => tx.tenant.create({ data: { name: slug, slug } }));
    const dup = await failure(withPlatform(db, (tx) => tx.tenant.create({ data: { name: slug, slug } })));
    expect(isUniqueViolation(dup)).toBe(true);
    expect(isTransientDatabaseError(dup)).toBe(false);
    const bad = await failure(withSystem(db, (tx) => tx.$queryRawUnsafe('SELECT * FROM no_such_table')));
    expect(isTransientDatabaseError(bad)).toBe(false);
    expect(isTransientDatabaseError(new TypeError('x'))).toBe(false);
    expect(isTransientDatabaseError(null)).toBe(false);
  });
});
