/**
 * kill -9 of the streaming process (`src/index.ts` with Kafka, as deployed) in the middle of a
 * stream of events to a batched and an unbatched sink: after a restart every event arrives, each
 * session in order; a repeated request only ever repeats a webhook-id with the same content. Own
 * database (the process's relay is unscoped), own topics and consumer group.
 */
import { spawn, type ChildProcess } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { fileURLToPath } from 'node:url';
import pg from 'pg';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createDb, setupDatabase, withTenant, type Db, MIGRATIONS_DIR } from '@lt/db';
import { appendOutbox, Topic } from '@lt/events';
import { Cleanup, createTestTenant, freePort, testEnv, uniqueName, waitFor } from '@lt/testing';
import { encryptSecret, generateSecret } from '../src/crypto/secrets';
import { withRaw } from '../src/data/raw';
import { insertSink } from '../src/data/sinks';
import { startReceiver, type Received } from './support/receiver';

const root = fileURLToPath(new URL('../../../', import.meta.url));
const database = uniqueName('lt_crash').replace(/-/g, '_');
const key = randomBytes(32);
const prefix = uniqueName('crash') + '.';
const group = uniqueName('crash');
const cleanup = new Cleanup();
let db: Db;
let appUrl: string;

beforeAll(async () => {
  const env = testEnv();
  const urls = await setupDatabase({
    adminUrl: env.adminDatabaseUrl,
    database,
    ownerPassword: 'lt_owner_dev',
    appPassword: 'lt_app_dev',
    migrationsDir: MIGRATIONS_DIR,
  });
  appUrl = urls.appUrl;
  cleanup.add(async () => {
    const admin = new pg.Client({ connectionString: env.adminDatabaseUrl });
    await admin.connect();
    await admin.query(`DROP DATABASE IF EXISTS "${database}" WITH (FORCE)`);
    await admin.end();
  });
  db = createDb({ url: urls.appUrl, max: 4 });
  cleanup.add(() => db.$disconnect());
}, 60_000);
afterAll(() => cleanup.run());

/** Starts `src/index.ts` on Kafka and resolves once it answers /healthz. */
async function startProcess(): Promise<{ child: ChildProcess; output: () => string }> {
  const env = testEnv();
  const port = await freePort();
  let output = '';
  const child = spawn(process.execPath, ['--import', 'tsx', 'subgraphs/streaming/src/index.ts'], {
    cwd: root,
    env: {
      PATH: process.env['PATH'],
      HOME: process.env['HOME'],
      NODE_ENV: 'test',
      LOG_LEVEL: 'warn',
      HOST: '127.0.0.1',
      PORT: String(port),
      DATABASE_URL: appUrl,
      ROUTER_CONTEXT_SECRET: env.contextSecret,
      STREAMING_SECRET_KEY: key.toString('base64'),
      SINK_ALLOW_LOOPBACK: 'true',
      KAFKA_BROKERS: env.kafkaBrokers.join(','),
      KAFKA_TOPIC_PREFIX: prefix,
      STREAMING_CONSUMER_GROUP: group,
      KAFKAJS_NO_PARTITIONER_WARNING: '1',
    },
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  child.stdout!.on('data', (c: Buffer) => (output += String(c)));
  child.stderr!.on('data', (c: Buffer) => (output += String(c)));
  cleanup.add(() => {
    if (child.exitCode === null && child.signalCode === null) child.kill('SIGKILL');
  });
  await waitFor(
    async () => {
      if (child.exitCode !== null) throw new Error(`streaming exited ${child.exitCode}: ${output}`);
      return (await fetch(`http://127.0.0.1:${port}/healthz`).catch(() => null))?.ok === true;
    },
    { timeoutMs: 60_000, what: 'streaming process healthy' },
  );
  return { child, output: () => output };
}

/** Journal rows of the tenant (direct batches held in some process's memory). */
const journalRows = async (tenantId: string) =>
  Number(
    (await withRaw(db, tenantId, (c) => c.query<{ n: string }>('SELECT count(*)::text AS n FROM webhook_batch_parts')))
      .rows[0]!.n,
  );

interface Envelope {
  id: string;
  data: { s: number; i: number };
}
const batchEvents = (r: Received) => (r.body as unknown as { data: { events: Envelope[] } }).data.events;

describe('kill -9 of the streaming process mid-stream', () => {
  it('loses nothing: every event arrives, sessions in order, repeats only under the same webhook-id', async () => {
    const tenant = await createTestTenant(db, 'crash');
    const batched = await startReceiver();
    const single = await startReceiver();
    cleanup.add(() => batched.stop());
    cleanup.add(() => single.stop());
    let batchedSinkId = '';
    const mk = async (url: string, batch: boolean) => {
      const secret = generateSecret();
      const created = await withTenant(db, tenant.id, (tx) =>
        insertSink(tx, {
          tenantId: tenant.id,
          name: batch ? 'batched' : 'single',
          url,
          topics: ['LOCATION_UPDATES'],
          secretEnc: encryptSecret(secret, key),
          ...(batch ? { batchMaxEvents: 25, batchMaxWaitMs: 20 } : {}),
        }),
      );
      if (batch) batchedSinkId = created.id;
      return secret;
    };
    batched.setSecrets([await mk(batched.url, true)]);
    single.setSecrets([await mk(single.url, false)]);

    const SESSIONS = 6;
    const PER_TX = 6;
    const TXS = 50; // 300 events
    const sessions = Array.from({ length: SESSIONS }, () => crypto.randomUUID());
    const sent: string[] = [];
    let first = await startProcess();
    const writer = (async () => {
      for (let t = 0; t < TXS; t++) {
        const envs = await withTenant(db, tenant.id, (tx) =>
          appendOutbox(
            tx,
            Array.from({ length: PER_TX }, (_, j) => ({
              topic: Topic.LOCATION_UPDATES,
              type: 'location.recorded.v1' as const,
              tenantId: tenant.id,
              entityId: sessions[j % SESSIONS],
              data: { s: j % SESSIONS, i: t },
            })),
          ),
        );
        sent.push(...envs.map((e) => e.id));
      }
    })();
    // Mid-load: some events have arrived, most are still on their way.
    await batched.until(() => batched.accepted().length >= 2, 60_000, 'the first batches');
    const killed = new Promise((resolve) => first.child.once('exit', resolve));
    first.child.kill('SIGKILL');
    await killed;
    expect(first.child.signalCode).toBe('SIGKILL');
    // The batched sink was on the direct path: batches went out without deliveries rows, and the
    // dead process left journal rows behind (its batches in memory), which the next one converts.
    const journalAtKill = await journalRows(tenant.id);
    expect(journalAtKill).toBeGreaterThan(0);
    // Killed mid-load: the batched sink had only part of the stream.
    expect(batched.accepted().flatMap(batchEvents).length).toBeLessThan(TXS * PER_TX);
    await writer;
    const total = TXS * PER_TX;
    expect(sent).toHaveLength(total);
    first = await startProcess();

    const seenBatched = () =>
      new Set(
        batched
          .accepted()
          .flatMap(batchEvents)
          .map((e) => e.id),
      );
    const seenSingle = () => new Set(single.accepted().map((r) => r.body.id));
    await batched.until(() => seenBatched().size === total, 120_000, 'every event at the batched sink');
    await single.until(() => seenSingle().size === total, 120_000, 'every event at the unbatched sink');
    expect([...seenBatched()].sort()).toEqual([...sent].sort());
    expect([...seenSingle()].sort()).toEqual([...sent].sort());
    expect(batched.all.every((r) => r.verified) && single.all.every((r) => r.verified)).toBe(true);

    // Duplicates only with the same webhook-id: each event travelled under one batch id, and a
    // repeated batch id carried the same events.
    const batchOf = new Map<string, string>();
    const contentOf = new Map<string, string>();
    for (const r of batched.accepted()) {
      const ids = batchEvents(r).map((e) => e.id);
      const known = contentOf.get(r.id);
      if (known !== undefined) expect(ids.join(), `batch ${r.id} repeated with other events`).toBe(known);
      contentOf.set(r.id, ids.join());
      for (const id of ids) {
        expect(batchOf.get(id) ?? r.id, `event ${id} under two webhook-ids`).toBe(r.id);
        batchOf.set(id, r.id);
      }
    }
    expect(single.accepted().every((r) => r.id === r.body.id)).toBe(true);
    expect(await journalRows(tenant.id)).toBe(0);
    const progress = await withRaw(db, tenant.id, (c) =>
      c.query<{ n: string }>('SELECT direct_delivered::text AS n FROM stream_sinks WHERE id = $1', [batchedSinkId]),
    );
    expect(Number(progress.rows[0]!.n)).toBeGreaterThan(0);

    // Each session in order (first arrival of each event).
    const firstOrder = (events: Envelope[]) => {
      const seen = new Set<string>();
      const bySession = new Map<number, number[]>();
      for (const e of events) {
        if (seen.has(e.id)) continue;
        seen.add(e.id);
        bySession.set(e.data.s, [...(bySession.get(e.data.s) ?? []), e.data.i]);
      }
      return bySession;
    };
    const inOrder = Array.from({ length: TXS }, (_, i) => i);
    const b = firstOrder(batched.accepted().flatMap(batchEvents));
    const s = firstOrder(single.accepted().map((r) => r.body as unknown as Envelope));
    for (let k = 0; k < SESSIONS; k++) {
      expect(b.get(k), `batched session ${k}`).toEqual(inOrder);
      expect(s.get(k), `unbatched session ${k}`).toEqual(inOrder);
    }
    const exited = new Promise((resolve) => first.child.once('exit', resolve));
    first.child.kill('SIGTERM');
    await exited;
  }, 240_000);
});
