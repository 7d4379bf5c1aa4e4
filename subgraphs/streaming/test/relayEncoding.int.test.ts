/**
 * The relay's read as plain rows (app_outbox_next_rows) and the envelope it builds around the
 * payload's text: whatever a payload, key or type holds, consumers parse the same envelope the
 * previous JSON-built read (app_outbox_next) gave, and the rows function keeps the relay lock and
 * the cursor's rules.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import pg from 'pg';
import { createDb, withTenant, type Db } from '@lt/db';
import { appendOutbox, Topic } from '@lt/events';
import { createLogger } from '@lt/logger';
import { Cleanup, createTestTenant, testEnv, uniqueName, unsentOutboxCount } from '@lt/testing';
import { createMemoryEventLog } from '../src/eventLog';
import { topicNames } from '../src/kafka/client';
import { createOutboxRelay } from '../src/relay/outboxRelay';
import { collectTopics } from './support/logCollector';

const log = createLogger({ level: 'silent' });
const cleanup = new Cleanup();
let db: Db;

beforeAll(async () => {
  db = createDb({ url: testEnv().databaseUrl });
  cleanup.add(() => db.$disconnect());
});
afterAll(() => cleanup.run());

async function connect(): Promise<pg.Client> {
  const c = new pg.Client({ connectionString: testEnv().databaseUrl });
  await c.connect();
  cleanup.add(() => c.end());
  return c;
}

/** Payloads that break a naive encoding: quotes, backslashes, unicode, control characters, a delimiter-like text, a big one. */
const payloads: Record<string, unknown>[] = [
  { s: 'quote " backslash \\ slash / \\" \\\\' },
  { s: 'żółć 日本語 😀 𝄞 \u2028 \u2029 \uFEFF' },
  { s: 'controls \u0001 \u001e \u001f \u007f \n \r \t \b \f' },
  { s: '","data":{"x":1}},{"id":"x"', t: '\u001e\u001f|,;:\t' },
  { nested: [[1, [2, [3]]], { a: { b: { c: null } } }], t: true, f: false, z: null },
  { n: Number.MAX_SAFE_INTEGER, m: -9007199254740991, f: 0.1, e: 1e-7, big: 1e21, neg: -42.5 },
  { big: 'a"\\é😀'.repeat(60_000) }, // ~420 KB of JSON text, no NUL (jsonb refuses \u0000)
  {},
];

describe('outbox relay encoding', () => {
  it('publishes envelopes equal to the JSON-built ones for payloads, keys and types with quotes, backslashes, unicode and control characters', async () => {
    const names = topicNames(uniqueName('enc') + '.');
    const eventLog = createMemoryEventLog({ log });
    cleanup.add(() => eventLog.stop());
    const topic = names.of(Topic.LOCATION_UPDATES);
    await eventLog.ensureTopics([topic]);
    const collector = await collectTopics(eventLog, [topic]);
    cleanup.add(() => collector.stop());
    const t = await createTestTenant(db, 'enc');
    const session = crypto.randomUUID();
    const written = await withTenant(
      db,
      t.id,
      (tx) =>
        appendOutbox(
          tx,
          payloads.map((data) => ({
            topic: Topic.LOCATION_UPDATES,
            type: 'location.recorded.v1' as const,
            tenantId: t.id,
            entityId: session,
            data,
          })),
        ),
      { timeoutMs: 30_000 },
    );
    // A key and a type no writer produces today, written as SQL: quotes, a backslash, unicode.
    const oddKey = `${t.id}:"q\\ ü😀\u001f`;
    const oddType = 'odd."type\\ 😀';
    await withTenant(
      db,
      t.id,
      (tx) =>
        tx.$executeRaw`INSERT INTO outbox (id, tenant_id, topic, key, type, payload, updated_at)
        VALUES (gen_random_uuid(), ${t.id}::uuid, ${Topic.LOCATION_UPDATES}, ${oddKey}, ${oddType}, '{"k":"\\"v\\""}'::jsonb, now())`,
    );
    const n = payloads.length + 1;

    // The previous read's messages for the same rows ([topic, key, tenant, type, envelope text]).
    const c = await connect();
    await c.query('BEGIN');
    const old = (
      await c.query<{ messages: string }>(`SELECT messages FROM app_outbox_next(100, NULL, NULL, false, $1::uuid[])`, [
        [t.id],
      ])
    ).rows[0]!;
    await c.query('ROLLBACK');
    const oldMessages = (JSON.parse(old.messages) as [string, string, string, string, string][]).map(
      ([, key, tenantId, type, value]) => ({ key, tenantId, type, value: JSON.parse(value) as { id: string } }),
    );
    expect(oldMessages).toHaveLength(n);

    const relay = createOutboxRelay({ db, eventLog, topics: names, log, tenantIds: [t.id] });
    expect(await relay.tick()).toBe(n);
    await relay.stop();
    await collector.waitForCount(n);
    const got = collector.messages;
    expect(got.map((m) => m.value)).toEqual(oldMessages.map((m) => m.value));
    expect(got.map((m) => m.key)).toEqual(oldMessages.map((m) => m.key));
    expect(got.map((m) => m.headers)).toEqual(
      oldMessages.map((m) => ({ 'tenant-id': m.tenantId, 'event-type': m.type })),
    );
    // And the data is what was written, the envelope as consumers read it.
    expect(got.slice(0, payloads.length).map((m) => m.value.data)).toEqual(payloads);
    expect(got.slice(0, payloads.length).map((m) => m.value.id)).toEqual(written.map((e) => e.id));
    expect(got[n - 1]).toMatchObject({ key: oddKey, value: { type: oddType, tenantId: t.id, data: { k: '"v"' } } });
    for (const m of got) {
      const occurredAt = (m.value as unknown as { occurredAt: string }).occurredAt;
      expect(new Date(occurredAt).toISOString()).toBe(occurredAt);
    }
    expect(await unsentOutboxCount(db, t.id)).toBe(0);
  });

  it('app_outbox_next_rows: another relay of the scope gets no rows; only rows older than every open transaction are final; a read-ahead after a tail has none', async () => {
    const t = await createTestTenant(db, 'enc-rows');
    const s = crypto.randomUUID();
    const point = (i: number) =>
      withTenant(db, t.id, (tx) =>
        appendOutbox(tx, [
          { topic: Topic.LOCATION_UPDATES, type: 'location.recorded.v1', tenantId: t.id, entityId: s, data: { i } },
        ]),
      );
    await point(0);
    await point(1);
    // An open transaction (any tenant's, any table) from here on: rows committed after it are the tail.
    const open = await connect();
    await open.query('BEGIN');
    await open.query('SELECT pg_current_xact_id()');
    await point(2);
    const rows = (c: pg.Client, limit: number, after: [string, string] | null, markAll: boolean) =>
      c.query<{ id: string; txid: string; seq: string; final: boolean; payload: string }>(
        `SELECT id, txid::text, seq::text, final, payload FROM app_outbox_next_rows($1, $2::xid8, $3::bigint, $4, $5::uuid[])`,
        [limit, after?.[0] ?? null, after?.[1] ?? null, markAll, [t.id]],
      );
    const [c1, c2] = [await connect(), await connect()];
    await c1.query('BEGIN');
    await c2.query('BEGIN');
    const first = (await rows(c1, 100, null, false)).rows;
    expect(first.map((r) => (JSON.parse(r.payload) as { i: number }).i)).toEqual([0, 1, 2]);
    // Final rows are a prefix (rows are in txid order); the row committed after the open transaction
    // took its id is not final. (Rows 0 and 1 are final unless another transaction on the server
    // was open before them.)
    const finals = first.map((r) => r.final);
    expect(finals).toEqual([...finals].sort((a, b) => Number(b) - Number(a)));
    expect(finals[2]).toBe(false);
    expect((await rows(c2, 100, null, false)).rows).toEqual([]); // the lock: one relay per scope
    const head = (await rows(c1, 1, null, false)).rows;
    const ahead = (await rows(c1, 100, [head[0]!.txid, head[0]!.seq], true)).rows;
    expect(ahead.map((r) => r.id)).toEqual(first.slice(1).map((r) => r.id));
    expect(ahead.every((r) => !r.final)).toBe(true);
    await Promise.all([c1.query('ROLLBACK'), c2.query('ROLLBACK'), open.query('ROLLBACK')]);
  });

  it("app_outbox_pending: true while the scope has unsent rows past its cursor, false once they are published, never for another scope's rows or in another tenant's transaction", async () => {
    const [a, b] = [await createTestTenant(db, 'enc-pa'), await createTestTenant(db, 'enc-pb')];
    const pending = async (tenantIds: string[]) =>
      (await db.$queryRaw<{ p: boolean }[]>`SELECT app_outbox_pending(${tenantIds}::uuid[]) AS p`)[0]!.p;
    expect(await pending([a.id])).toBe(false);
    await withTenant(db, a.id, (tx) =>
      appendOutbox(tx, [
        { topic: Topic.LOCATION_UPDATES, type: 'location.recorded.v1', tenantId: a.id, entityId: 's', data: {} },
      ]),
    );
    expect(await pending([a.id])).toBe(true);
    expect(await pending([b.id])).toBe(false);
    expect(await pending([a.id, b.id])).toBe(true);
    // In another tenant's transaction neither function reaches A's rows, whatever scope is asked.
    const asB = await withTenant(db, b.id, async (tx) => ({
      pending: (await tx.$queryRaw<{ p: boolean }[]>`SELECT app_outbox_pending(${[a.id]}::uuid[]) AS p`)[0]!.p,
      rows: await tx.$queryRaw<
        { id: string }[]
      >`SELECT id::text FROM app_outbox_next_rows(100, NULL, NULL, false, ${[a.id]}::uuid[])`,
    }));
    expect(asB).toEqual({ pending: false, rows: [] });
    const names = topicNames(uniqueName('enc-p') + '.');
    const eventLog = createMemoryEventLog({ log });
    cleanup.add(() => eventLog.stop());
    await eventLog.ensureTopics([names.of(Topic.LOCATION_UPDATES)]);
    const relay = createOutboxRelay({ db, eventLog, topics: names, log, tenantIds: [a.id] });
    expect(await relay.tick()).toBe(1);
    await relay.stop();
    expect(await pending([a.id])).toBe(false);
  });
});
