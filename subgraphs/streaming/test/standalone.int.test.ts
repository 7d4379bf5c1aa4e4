/**
 * The streaming subgraph run alone (`src/index.ts`, as docker-compose runs it) without
 * KAFKA_BROKERS: relay → in-process log → consumer → signed webhook, in its own database (its
 * relay is unscoped: it would take other tests' outbox rows in the shared one). Stops on SIGTERM.
 */
import { spawn, type ChildProcess } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { fileURLToPath } from 'node:url';
import pg from 'pg';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createDb, setupDatabase, type Db, MIGRATIONS_DIR } from '@lt/db';
import { Topic } from '@lt/events';
import { Cleanup, createTestTenant, freePort, testEnv, uniqueName, waitFor } from '@lt/testing';
import { createSink, emit } from './support/fixtures';
import { startReceiver } from './support/receiver';

const root = fileURLToPath(new URL('../../../', import.meta.url));
const database = uniqueName('lt_standalone').replace(/-/g, '_');
const key = randomBytes(32);
const cleanup = new Cleanup();
let db: Db;
let child: ChildProcess;
let output = '';
let port: number;

beforeAll(async () => {
  const env = testEnv();
  const urls = await setupDatabase({
    adminUrl: env.adminDatabaseUrl,
    database,
    ownerPassword: 'lt_owner_dev',
    appPassword: 'lt_app_dev',
    migrationsDir: MIGRATIONS_DIR,
  });
  cleanup.add(async () => {
    const admin = new pg.Client({ connectionString: env.adminDatabaseUrl });
    await admin.connect();
    await admin.query(`DROP DATABASE IF EXISTS "${database}" WITH (FORCE)`);
    await admin.end();
  });
  db = createDb({ url: urls.appUrl, max: 2 });
  cleanup.add(() => db.$disconnect());
  port = await freePort();
  child = spawn(process.execPath, ['--import', 'tsx', 'subgraphs/streaming/src/index.ts'], {
    cwd: root,
    env: {
      PATH: process.env['PATH'],
      HOME: process.env['HOME'],
      NODE_ENV: 'test',
      LOG_LEVEL: 'warn',
      HOST: '127.0.0.1',
      PORT: String(port),
      DATABASE_URL: urls.appUrl,
      ROUTER_CONTEXT_SECRET: env.contextSecret,
      STREAMING_SECRET_KEY: key.toString('base64'),
      SINK_ALLOW_LOOPBACK: 'true',
    },
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  child.stdout!.on('data', (c: Buffer) => (output += String(c)));
  child.stderr!.on('data', (c: Buffer) => (output += String(c)));
  cleanup.add(() => {
    if (child.exitCode === null) child.kill('SIGKILL');
  });
  await waitFor(
    async () => {
      if (child.exitCode !== null) throw new Error(`streaming exited ${child.exitCode}: ${output}`);
      return (await fetch(`http://127.0.0.1:${port}/healthz`).catch(() => null))?.ok === true;
    },
    { timeoutMs: 30_000, what: 'standalone streaming healthy' },
  );
}, 60_000);
afterAll(() => cleanup.run());

describe('streaming subgraph alone, without Kafka', () => {
  it('serves its process metrics (event-loop lag, GC, heap, handles) on /metrics', async () => {
    const res = await fetch(`http://127.0.0.1:${port}/metrics`, { signal: AbortSignal.timeout(5_000) });
    expect(res.status).toBe(200);
    const text = await res.text();
    for (const name of ['nodejs_eventloop_lag_seconds', 'nodejs_gc_duration_seconds', 'nodejs_heap_size_used_bytes'])
      expect(text).toMatch(new RegExp(`^# TYPE ${name} `, 'm'));
    expect(text).toMatch(/^nodejs_active_handles_total \d+$/m);
  });

  it('delivers outbox events to a signed webhook through its in-process log, and stops on SIGTERM', async () => {
    const tenant = await createTestTenant(db, 'standalone');
    const r = await startReceiver();
    cleanup.add(() => r.stop());
    const { secret } = await createSink(db, key, tenant.id, r.url, ['SESSION_EVENTS']);
    r.setSecrets([secret]);
    const e = await emit(db, tenant.id, Topic.SESSION_EVENTS, { n: 1 }, crypto.randomUUID());
    await r.until(() => r.accepted().length >= 1, 20_000, 'the event at the sink');
    expect(r.accepted().map((x) => x.id)).toEqual([e.id]);
    expect(r.all.every((x) => x.verified)).toBe(true);
    expect(output).toMatch(/KAFKA_BROKERS not set: webhooks run on an in-process event log/);

    const exited = new Promise<number | null>((resolve) => child.once('exit', (code) => resolve(code)));
    child.kill('SIGTERM');
    expect(await exited).toBe(0);
  });
});
