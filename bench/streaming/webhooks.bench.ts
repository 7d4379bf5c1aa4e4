// Streaming benchmark: deliveries/s to a local webhook receiver, and end-to-end latency
// from an outbox row's commit to the webhook's arrival (outbox → relay → Kafka → consumer →
// dispatcher → HTTP). Real Postgres and Kafka (127.0.0.1:9092); its own database and topic prefix.
//
//   npx tsx bench/streaming/webhooks.bench.ts            # N=2000 backlog events, 200 latency samples
//   BENCH_EVENTS=5000 BENCH_SAMPLES=500 npx tsx bench/streaming/webhooks.bench.ts
import { createServer } from 'node:http';
import { randomBytes } from 'node:crypto';
import { Webhook } from 'standardwebhooks';
import { createDb, setupDatabase, withPlatform, withTenant, MIGRATIONS_DIR } from '@lt/db';
import { appendOutbox, Topic } from '@lt/events';
import { createLogger } from '@lt/logger';
import { encryptSecret, generateSecret, startStreamingPipeline } from '@lt/subgraph-streaming';

process.env['KAFKAJS_NO_PARTITIONER_WARNING'] = '1';
const EVENTS = Number(process.env['BENCH_EVENTS'] ?? 2_000);
const SESSIONS = Number(process.env['BENCH_SESSIONS'] ?? 50);
const SAMPLES = Number(process.env['BENCH_SAMPLES'] ?? 200);
const brokers = (process.env['KAFKA_BROKERS'] ?? '127.0.0.1:9092').split(',');
const tag = `bench-${Date.now().toString(36)}`;

const urls = await setupDatabase({
  adminUrl: process.env['ADMIN_DATABASE_URL'] ?? 'postgresql://postgres@127.0.0.1:5432/postgres',
  database: 'lt_bench_streaming',
  ownerPassword: process.env['DB_OWNER_PASSWORD'] ?? 'lt_owner_dev',
  appPassword: process.env['DB_APP_PASSWORD'] ?? 'lt_app_dev',
  migrationsDir: MIGRATIONS_DIR,
});
const db = createDb({ url: urls.appUrl, max: 20 });
const tenant = await withPlatform(db, (tx) => tx.tenant.create({ data: { name: tag, slug: tag } }));

// Receiver: verifies every signature (an independent implementation), records arrival times.
const secret = generateSecret();
const verifier = new Webhook(secret);
const arrivals = new Map<string, number>();
let waiter: { n: number; resolve: () => void } | undefined;
const server = createServer((req, res) => {
  const chunks: Buffer[] = [];
  req.on('data', (c: Buffer) => chunks.push(c));
  req.on('end', () => {
    const body = Buffer.concat(chunks).toString('utf8');
    verifier.verify(body, req.headers as Record<string, string>);
    const id = req.headers['webhook-id'] as string;
    if (!arrivals.has(id)) arrivals.set(id, performance.now());
    res.writeHead(204).end();
    if (waiter && arrivals.size >= waiter.n) waiter.resolve();
  });
});
await new Promise<void>((r) => server.listen(0, '127.0.0.1', r));
const receiverUrl = `http://127.0.0.1:${(server.address() as { port: number }).port}/hook`;
const until = (n: number, timeoutMs: number) =>
  new Promise<void>((resolve, reject) => {
    if (arrivals.size >= n) return resolve();
    const t = setTimeout(() => reject(new Error(`only ${arrivals.size}/${n} after ${timeoutMs} ms`)), timeoutMs);
    waiter = { n, resolve: () => (clearTimeout(t), resolve()) };
  });

const key = randomBytes(32);
await withTenant(db, tenant.id, (tx) =>
  tx.streamSink.create({
    data: {
      tenantId: tenant.id,
      name: 'bench',
      url: receiverUrl,
      topics: ['LOCATION_UPDATES'],
      secretEnc: encryptSecret(secret, key),
    },
  }),
);
const sessions = Array.from({ length: SESSIONS }, () => crypto.randomUUID());

// 1) Throughput: a backlog of EVENTS rows written first (100 per transaction), then drained.
for (let i = 0; i < EVENTS; i += 100) {
  await withTenant(db, tenant.id, (tx) =>
    appendOutbox(
      tx,
      Array.from({ length: Math.min(100, EVENTS - i) }, (_, j) => ({
        topic: Topic.LOCATION_UPDATES,
        type: 'location.recorded.v1' as const,
        tenantId: tenant.id,
        entityId: sessions[(i + j) % SESSIONS],
        data: { i: i + j },
      })),
    ),
  );
}
const log = createLogger({ level: 'warn' });
const t0 = performance.now();
const pipeline = await startStreamingPipeline({
  db,
  log,
  brokers,
  groupId: tag,
  topicPrefix: `${tag}.`,
  secretKey: key,
  urlPolicy: { allowLoopback: true },
  relayPollIntervalMs: 5,
  ...(process.env['BENCH_BULKHEAD'] ? { delivery: { maxInFlightPerSink: Number(process.env['BENCH_BULKHEAD']) } } : {}),
  dispatcherPollIntervalMs: 20,
  tenantIds: [tenant.id],
});
const tStarted = performance.now();
await until(EVENTS, 300_000);
const tDrained = performance.now();
const drainS = (tDrained - tStarted) / 1_000;

// 2) Latency: one event at a time on the idle pipeline, commit → arrival.
const latencies: number[] = [];
for (let i = 0; i < SAMPLES; i++) {
  const [env] = await withTenant(db, tenant.id, (tx) =>
    appendOutbox(tx, [
      {
        topic: Topic.LOCATION_UPDATES,
        type: 'location.recorded.v1',
        tenantId: tenant.id,
        entityId: sessions[i % SESSIONS],
        data: { s: i },
      },
    ]),
  );
  const committed = performance.now();
  pipeline.relay?.wake(); // same process as the writer, as the location subgraph would be in `npm start`
  await until(EVENTS + i + 1, 30_000);
  latencies.push(arrivals.get(env!.id)! - committed);
}
latencies.sort((a, b) => a - b);
const pct = (p: number) =>
  latencies[Math.min(latencies.length - 1, Math.floor((p / 100) * latencies.length))]!.toFixed(1);

console.log(
  JSON.stringify(
    {
      events: EVENTS,
      sessions: SESSIONS,
      pipelineStartMs: Math.round(tStarted - t0),
      drainSeconds: Number(drainS.toFixed(2)),
      deliveriesPerSecond: Math.round(EVENTS / drainS),
      latencySamples: SAMPLES,
      latencyMs: { p50: pct(50), p90: pct(90), p99: pct(99), max: latencies.at(-1)!.toFixed(1) },
    },
    null,
    2,
  ),
);
await pipeline.stop();
await new Promise((r) => server.close(r));
await db.$disconnect();
