/**
 * The relay's cursor (app_outbox_next / app_outbox_advance): rows of a transaction that commits
 * late are not skipped, a crash between the publish and the cursor's commit republishes, two relays
 * never interleave, the unsent view is per tenant, and published rows stay recoverable for the
 * in-process log.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import pg from 'pg';
import { createDb, withTenant, type Db } from '@lt/db';
import { appendOutbox, Topic } from '@lt/events';
import { createLogger } from '@lt/logger';
import { Cleanup, createTestTenant, testEnv, uniqueName, unsentOutboxCount, unsentOutboxIds } from '@lt/testing';
import { createMemoryEventLog, type EventLog } from '../src/eventLog';
import { topicNames } from '../src/kafka/client';
import { createOutboxRelay } from '../src/relay/outboxRelay';
import { republishUnconsumed } from '../src/relay/recoverUnconsumed';
import { collectTopics } from './support/logCollector';

const log = createLogger({ level: 'silent' });
const cleanup = new Cleanup();
let db: Db;

beforeAll(async () => {
  db = createDb({ url: testEnv().databaseUrl });
  cleanup.add(() => db.$disconnect());
});
afterAll(() => cleanup.run());

/** One location event of `session` with data.i = i, in its own transaction. */
const point = (tenantId: string, session: string, i: number) =>
  withTenant(db, tenantId, (tx) =>
    appendOutbox(tx, [
      { topic: Topic.LOCATION_UPDATES, type: 'location.recorded.v1', tenantId, entityId: session, data: { i } },
    ]),
  );

async function memoryLog(prefix: string) {
  const names = topicNames(prefix);
  const eventLog = createMemoryEventLog({ log });
  cleanup.add(() => eventLog.stop());
  const topic = names.of(Topic.LOCATION_UPDATES);
  await eventLog.ensureTopics([topic]);
  const collector = await collectTopics(eventLog, [topic]);
  cleanup.add(() => collector.stop());
  return { names, eventLog, collector };
}

/** A plain connection of the services' role, for transactions held open across steps. */
async function connect(): Promise<pg.Client> {
  const c = new pg.Client({ connectionString: testEnv().databaseUrl });
  await c.connect();
  cleanup.add(() => c.end());
  return c;
}

interface Next {
  n: number;
  final_txid: string | null;
  final_seq: string | null;
  tail_ids: string[] | null;
  messages: string | null;
}
const next = async (c: pg.Client, tenantIds: string[], limit = 100) =>
  (
    await c.query<Next>(
      `SELECT n, final_txid::text, final_seq::text, tail_ids::text[] AS tail_ids, messages
         FROM app_outbox_next($1, NULL, NULL, false, $2::uuid[])`,
      [limit, tenantIds],
    )
  ).rows[0]!;
/** What the relay records once a batch is sent: the cursor past its final rows, its tail rows marked. */
async function record(c: pg.Client, b: Next, tenantIds: string[]) {
  if (b.final_txid !== null)
    await c.query('SELECT app_outbox_advance($1::xid8, $2::bigint, $3::uuid[])', [
      b.final_txid,
      b.final_seq,
      tenantIds,
    ]);
  if (b.tail_ids !== null) await c.query('SELECT app_outbox_mark_sent($1::uuid[])', [b.tail_ids]);
}
const idsOf = (b: Next) =>
  (JSON.parse(b.messages ?? '[]') as [string, string, string, string, string][]).map(
    ([, , , , value]) => (JSON.parse(value) as { id: string }).id,
  );

describe('outbox relay cursor', () => {
  it('does not skip the rows of a transaction that took its id first and commits last', async () => {
    const { names, eventLog, collector } = await memoryLog(uniqueName('cur-late') + '.');
    const t = await createTestTenant(db, 'cur-late');
    const s = crypto.randomUUID();
    const late = crypto.randomUUID();
    await point(t.id, s, 0);
    // The late transaction takes its id (and a seq) now, writes another row with a higher seq after
    // newer transactions committed, then commits last.
    const c = await connect();
    await c.query('BEGIN');
    await c.query(`SELECT set_config('app.tenant_id', $1, true)`, [t.id]);
    const insert = (i: number) =>
      c.query(
        `INSERT INTO outbox (id, tenant_id, topic, key, type, payload, updated_at)
         VALUES (gen_random_uuid(), $1, $2, $3, 'location.recorded.v1', $4, now())`,
        [t.id, Topic.LOCATION_UPDATES, `${t.id}:${late}`, JSON.stringify({ i })],
      );
    await insert(0);
    for (let i = 1; i <= 6; i++) await point(t.id, s, i);
    await insert(1);

    const relay = createOutboxRelay({ db, eventLog, topics: names, log, tenantIds: [t.id], batchSize: 3 });
    // Everything committed is published, the newer transactions' rows while the old one is open.
    let published = 0;
    for (let i = 0; i < 10 && published < 7; i++) published += await relay.tick();
    expect(published).toBe(7);
    await collector.waitForCount(7);
    expect(await unsentOutboxCount(db, t.id)).toBe(0);

    await c.query('COMMIT');
    expect(await unsentOutboxCount(db, t.id)).toBe(2);
    let more = 0;
    for (let i = 0; i < 10 && more < 2; i++) more += await relay.tick();
    expect(more).toBe(2);
    await collector.waitForCount(9);
    const byKey = (k: string) =>
      collector.messages.filter((m) => m.key === `${t.id}:${k}`).map((m) => m.value.data['i']);
    expect(byKey(s)).toEqual([0, 1, 2, 3, 4, 5, 6]);
    expect(byKey(late)).toEqual([0, 1]);
    expect(await unsentOutboxCount(db, t.id)).toBe(0);
    expect(await relay.tick()).toBe(0); // nothing published twice
    expect(collector.messages).toHaveLength(9);
    await relay.stop();
  });

  it('republishes a batch whose cursor move did not commit (a crash after the publish)', async () => {
    const { names, eventLog, collector } = await memoryLog(uniqueName('cur-crash') + '.');
    const t = await createTestTenant(db, 'cur-crash');
    const s = crypto.randomUUID();
    for (let i = 0; i < 5; i++) await point(t.id, s, i);
    const c = await connect();
    await c.query('BEGIN');
    const batch = await next(c, [t.id]);
    expect(batch.n).toBe(5);
    const firstIds = idsOf(batch);
    await record(c, batch, [t.id]);
    await c.query('ROLLBACK'); // the process died before the commit
    expect(await unsentOutboxCount(db, t.id)).toBe(5);

    const relay = createOutboxRelay({ db, eventLog, topics: names, log, tenantIds: [t.id] });
    expect(await relay.tick()).toBe(5);
    await collector.waitForCount(5);
    expect(collector.messages.map((m) => m.value.id)).toEqual(firstIds);
    expect(await unsentOutboxCount(db, t.id)).toBe(0);
    expect(await relay.tick()).toBe(0);
    await relay.stop();
  });

  it("two relays of one scope never interleave: the second reads nothing and cannot move the first's cursor", async () => {
    const t = await createTestTenant(db, 'cur-two');
    const s = crypto.randomUUID();
    for (let i = 0; i < 3; i++) await point(t.id, s, i);
    const [c1, c2] = [await connect(), await connect()];
    await c1.query('BEGIN');
    await c2.query('BEGIN');
    const first = await next(c1, [t.id]);
    expect(first.n).toBe(3);
    const second = await next(c2, [t.id]);
    expect(second.n).toBe(0);
    expect(second.messages).toBeNull();
    await expect(c2.query(`SELECT app_outbox_advance(pg_current_xact_id(), 1, $1::uuid[])`, [[t.id]])).rejects.toThrow(
      /held by another relay/,
    );
    await c2.query('ROLLBACK');
    await record(c1, first, [t.id]);
    await c1.query('COMMIT');
    expect(await unsentOutboxCount(db, t.id)).toBe(0);
    // Once the first committed, the second finds nothing left.
    await c2.query('BEGIN');
    expect((await next(c2, [t.id])).n).toBe(0);
    await c2.query('ROLLBACK');
  });

  it('a read-ahead after a tail moves no cursor: its rows are all to be marked', async () => {
    const t = await createTestTenant(db, 'cur-ahead');
    const s = crypto.randomUUID();
    for (let i = 0; i < 4; i++) await point(t.id, s, i);
    const c = await connect();
    await c.query('BEGIN');
    const first = (
      await c.query<{ n: number; txid: string; seq: string }>(
        `SELECT n, last_txid::text AS txid, last_seq::text AS seq FROM app_outbox_next(2, NULL, NULL, false, $1::uuid[])`,
        [[t.id]],
      )
    ).rows[0]!;
    expect(first.n).toBe(2);
    const ahead = (
      await c.query<Next>(
        `SELECT n, final_txid::text, final_seq::text, tail_ids::text[] AS tail_ids, messages
           FROM app_outbox_next(2, $1::xid8, $2::bigint, true, $3::uuid[])`,
        [first.txid, first.seq, [t.id]],
      )
    ).rows[0]!;
    expect(ahead.n).toBe(2);
    expect(ahead.final_txid).toBeNull();
    expect(ahead.tail_ids).toEqual(idsOf(ahead));
    await c.query('ROLLBACK');
  });

  it("splits a batch into requests under the log's size limit, keeping each key's order", async () => {
    const { names, eventLog, collector } = await memoryLog(uniqueName('cur-split') + '.');
    const t = await createTestTenant(db, 'cur-split');
    const s = crypto.randomUUID();
    for (let i = 0; i < 12; i++) await point(t.id, s, i);
    const requests: number[] = [];
    const counting: EventLog = {
      ...eventLog,
      producer() {
        const p = eventLog.producer();
        return {
          ...p,
          sendBatch: (batch) => (requests.push(batch.reduce((n, b) => n + b.messages.length, 0)), p.sendBatch(batch)),
        };
      },
    };
    // One envelope is ~300 bytes: about three per request.
    const relay = createOutboxRelay({
      db,
      eventLog: counting,
      topics: names,
      log,
      tenantIds: [t.id],
      maxRequestBytes: 1_000,
    });
    expect(await relay.tick()).toBe(12);
    await relay.stop();
    await collector.waitForCount(12);
    expect(requests.length).toBeGreaterThanOrEqual(4);
    expect(requests.reduce((a, b) => a + b, 0)).toBe(12);
    expect(Math.max(...requests)).toBeLessThanOrEqual(3);
    expect(collector.messages.map((m) => m.value.data['i'])).toEqual([...Array(12).keys()]);
  });

  it('cleanup deletes rows the cursor passed once they are past the retention, never unsent ones', async () => {
    const { names, eventLog } = await memoryLog(uniqueName('cur-clean') + '.');
    const t = await createTestTenant(db, 'cur-clean');
    const s = crypto.randomUUID();
    for (let i = 0; i < 3; i++) await point(t.id, s, i);
    const relay = createOutboxRelay({ db, eventLog, topics: names, log, tenantIds: [t.id] });
    expect(await relay.tick()).toBe(3);
    await relay.stop();
    const unsent = [await point(t.id, s, 3), await point(t.id, s, 4)].map((e) => e[0]!.id);
    const c = await connect();
    await c.query('BEGIN'); // rolled back: other tests' sent rows stay
    for (let i = 0; i < 50; i++) {
      const { rows } = await c.query<{ n: number }>('SELECT app_outbox_cleanup(0, 10000) AS n');
      if (rows[0]!.n === 0) break;
    }
    await c.query(`SELECT set_config('app.tenant_id', $1, true)`, [t.id]);
    const left = await c.query<{ id: string }>('SELECT id::text FROM outbox ORDER BY seq');
    await c.query('ROLLBACK');
    expect(left.rows.map((r) => r.id)).toEqual(unsent);
  });

  it('a tenant sees only its own unsent rows, whichever tenant it asks for', async () => {
    const [a, b] = [await createTestTenant(db, 'cur-ta'), await createTestTenant(db, 'cur-tb')];
    const ea = await point(a.id, crypto.randomUUID(), 0);
    const eb = await point(b.id, crypto.randomUUID(), 0);
    expect(await unsentOutboxIds(db, a.id)).toEqual([ea[0]!.id]);
    expect(await unsentOutboxIds(db, b.id)).toEqual([eb[0]!.id]);
    const asked = await withTenant(
      db,
      b.id,
      (tx) => tx.$queryRaw<{ id: string }[]>`SELECT id::text FROM app_outbox_unsent(${a.id}::uuid)`,
    );
    expect(asked).toEqual([]);
  });

  it('rows the cursor passed stay recoverable for the in-process log until a consumer processed them', async () => {
    const { names, eventLog, collector } = await memoryLog(uniqueName('cur-rec') + '.');
    const t = await createTestTenant(db, 'cur-rec');
    const s = crypto.randomUUID();
    for (let i = 0; i < 4; i++) await point(t.id, s, i);
    const relay = createOutboxRelay({ db, eventLog, topics: names, log, tenantIds: [t.id] });
    expect(await relay.tick()).toBe(4);
    await relay.stop();
    await collector.waitForCount(4);
    const consumer = uniqueName('cur-consumer');
    // The consumer parked the first one before the stop.
    await withTenant(db, t.id, (tx) =>
      tx.processedEvent.create({ data: { consumer, eventId: collector.messages[0]!.value.id, tenantId: t.id } }),
    );
    const restarted = createMemoryEventLog({ log });
    cleanup.add(() => restarted.stop());
    await restarted.ensureTopics([names.of(Topic.LOCATION_UPDATES)]);
    const again = await collectTopics(restarted, [names.of(Topic.LOCATION_UPDATES)]);
    cleanup.add(() => again.stop());
    const n = await republishUnconsumed({
      db,
      eventLog: restarted,
      topics: names,
      log,
      consumerName: consumer,
      tenantIds: [t.id],
    });
    expect(n).toBe(3);
    await again.waitForCount(3);
    expect(again.messages.map((m) => m.value.data['i'])).toEqual([1, 2, 3]);
  });
});
