/**
 * Failure classification against real Postgres through Prisma: overload and timeouts are
 * transient (the API answers SERVICE_UNAVAILABLE), constraint violations are not.
 */
import { randomUUID } from 'node:crypto';
import { afterAll, describe, expect, it } from 'vitest';
import { createDb, isTransientDatabaseError, isUniqueViolation, withPlatform, withSystem } from '@lt/db';
import net from 'node:net';
import pg from 'pg';
import { testEnv, waitFor } from '@lt/testing';

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
  it('recognises a connection lost without a word from the server (Connection terminated unexpectedly)', async () => {
    // A TCP relay to Postgres whose sockets the test cuts mid-query, as a network failure would.
    const target = new URL(testEnv().databaseUrl);
    const sockets = new Set<net.Socket>();
    const relay = net.createServer((client) => {
      const upstream = net.connect(Number(target.port || 5432), target.hostname);
      sockets.add(client).add(upstream);
      client.pipe(upstream).pipe(client);
      const drop = (): void => void (client.destroy(), upstream.destroy());
      client.on('error', drop).on('close', drop);
      upstream.on('error', drop).on('close', drop);
    });
    await new Promise<void>((r) => relay.listen(0, '127.0.0.1', () => r()));
    const url = new URL(testEnv().databaseUrl);
    url.host = `127.0.0.1:${(relay.address() as net.AddressInfo).port}`;
    const own = createDb({ url: url.toString(), max: 1 });
    const admin = new pg.Client({ connectionString: testEnv().adminDatabaseUrl });
    await admin.connect();
    try {
      const marker = `cut-me-${randomUUID()}`;
      const running = failure(withSystem(own, (tx) => tx.$queryRawUnsafe(`SELECT pg_sleep(30), '${marker}'`)));
      await waitFor(
        async () =>
          (await admin.query(`SELECT 1 FROM pg_stat_activity WHERE query LIKE $1`, [`%'${marker}'%`])).rowCount === 1,
        { what: 'the query to run' },
      );
      for (const s of sockets) s.destroy();
      const err = await running;
      expect(String((err as Error).message)).toMatch(/Connection terminated/);
      expect(isTransientDatabaseError(err)).toBe(true);
      await admin.query(`SELECT pg_terminate_backend(pid) FROM pg_stat_activity WHERE query LIKE $1`, [
        `%'${marker}'%`,
      ]);
    } finally {
      await admin.end();
      await own.$disconnect().catch(() => undefined);
      await new Promise((r) => relay.close(r));
    }
  });

  it('recognises a connection the server terminated mid-query (restart, failover)', async () => {
    const own = createDb({ url: testEnv().databaseUrl, max: 1 });
    const admin = new pg.Client({ connectionString: testEnv().adminDatabaseUrl });
    await admin.connect();
    try {
      const marker = `terminate-me-${randomUUID()}`;
      const running = failure(withSystem(own, (tx) => tx.$queryRawUnsafe(`SELECT pg_sleep(30), '${marker}'`)));
      // pg_terminate_backend, as a restart or a failover would drop it.
      await waitFor(
        async () => {
          const r = await admin.query(
            `SELECT pg_terminate_backend(pid) AS done FROM pg_stat_activity
              WHERE query LIKE $1 AND pid <> pg_backend_pid()`,
            [`%'${marker}'%`],
          );
          return r.rows.some((row: { done: boolean }) => row.done);
        },
        { what: 'the sleeping backend to be terminated' },
      );
      const err = await running;
      expect(String((err as Error).message)).toMatch(/terminat/i);
      expect(isTransientDatabaseError(err)).toBe(true);
    } finally {
      await admin.end();
      await own.$disconnect();
    }
  });

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
