// Streaming throughput benchmark: batched vs one-event-per-request sinks, the relay alone, a steady
// stream's latency and a backlog drain after an outage. Real Postgres and Kafka (127.0.0.1), its
// own database (BENCH_DATABASE, default lt_bench_streaming), a fresh tenant, topic prefix and
// consumer group per scenario.
// Receivers verify every signature with `standardwebhooks`. Rounds of A and B are interleaved and
// their medians printed. Knobs (env): BENCH_ROUNDS (3), BENCH_RELAY_ROWS (50000),
// BENCH_BATCH_EVENTS (20000), BENCH_SINGLE_EVENTS (2000), BENCH_FANOUT_EVENTS (40 per tenant,
// x 10 sinks x 5 tenants), BENCH_STEADY_SECONDS (15), BENCH_BACKLOG (100000), BENCH_ONLY (A,B,C,D,E,F),
// BENCH_DATABASE (lt_bench_streaming).
//
//   npx tsx bench/streaming/batched.bench.ts
import { createServer, type Server } from 'node:http';
import { randomBytes } from 'node:crypto';
import { Webhook } from 'standardwebhooks';
import { createDb, setupDatabase, withPlatform, withTenant, MIGRATIONS_DIR } from '@lt/db';
import { appendOutbox, Topic } from '@lt/events';
import { createLogger } from '@lt/logger';
import {
  createKafkaEventLog,
  createOutboxRelay,
  encryptSecret,
  type EventLog,
  generateSecret,
  startStreamingPipeline,
  topicNames,
} from '@lt/subgraph-streaming';

process.env['KAFKAJS_NO_PARTITIONER_WARNING'] = '1';
const env = (k: string, d: number) => Number(process.env[k] ?? d);
const ROUNDS = env('BENCH_ROUNDS', 3);
const ONLY = new Set((process.env['BENCH_ONLY'] ?? 'A,B,C,D,E,F').split(','));
const brokers = (process.env['KAFKA_BROKERS'] ?? '127.0.0.1:9092').split(',');
const log = createLogger({ level: 'warn' });
const key = randomBytes(32);

const urls = await setupDatabase({
  adminUrl: process.env['ADMIN_DATABASE_URL'] ?? 'postgresql://postgres@127.0.0.1:5432/postgres',
  database: process.env['BENCH_DATABASE'] ?? 'lt_bench_streaming',
  ownerPassword: process.env['DB_OWNER_PASSWORD'] ?? 'lt_owner_dev',
  appPassword: process.env['DB_APP_PASSWORD'] ?? 'lt_app_dev',
  migrationsDir: MIGRATIONS_DIR,
});
const db = createDb({ url: urls.appUrl, max: 20 });
let n = 0;
const tag = () => `bb-${Date.now().toString(36)}-${++n}`;
const newTenant = async () => {
  const t = tag();
  return withPlatform(db, (tx) => tx.tenant.create({ data: { name: t, slug: t } }));
};
const median = (xs: number[]) => [...xs].sort((a, b) => a - b)[Math.floor(xs.length / 2)]!;
const pct = (xs: number[], p: number) => {
  const s = [...xs].sort((a, b) => a - b);
  return s[Math.min(s.length - 1, Math.floor((p / 100) * s.length))]!;
};

/** A receiver counting events (batch bodies unpacked) and requests, verifying each signature. */
async function receiver(secrets: Map<string, string>, delayMs = 0, isDown: () => boolean = () => false) {
  const arrivals = new Map<string, number>();
  let requests = 0;
  let waiter: { n: number; resolve: () => void } | undefined;
  const server: Server = createServer((req, res) => {
    const chunks: Buffer[] = [];
    req.on('data', (c: Buffer) => chunks.push(c));
    req.on('end', () => {
      const body = Buffer.concat(chunks).toString('utf8');
      if (isDown()) return void res.writeHead(503).end();
      const sinkId = req.url!.slice(1);
      new Webhook(secrets.get(sinkId)!).verify(body, req.headers as Record<string, string>);
      const now = performance.now();
      const parsed = JSON.parse(body) as { id: string; type: string; data: { events?: { id: string }[] } };
      const ids = parsed.type === 'batch' ? parsed.data.events!.map((e) => e.id) : [parsed.id];
      for (const id of ids) if (!arrivals.has(`${sinkId}:${id}`)) arrivals.set(`${sinkId}:${id}`, now);
      requests++;
      const answer = () => {
        res.writeHead(204).end();
        if (waiter && arrivals.size >= waiter.n) waiter.resolve();
      };
      if (delayMs) setTimeout(answer, delayMs);
      else answer();
    });
  });
  server.keepAliveTimeout = 5_000;
  await new Promise<void>((r) => server.listen(0, '127.0.0.1', r));
  const base = `http://127.0.0.1:${(server.address() as { port: number }).port}`;
  return {
    base,
    arrivals,
    get requests() {
      return requests;
    },
    until: (want: number, timeoutMs: number) =>
      new Promise<void>((resolve, reject) => {
        if (arrivals.size >= want) return resolve();
        const t = setTimeout(() => reject(new Error(`only ${arrivals.size}/${want} after ${timeoutMs} ms`)), timeoutMs);
        waiter = { n: want, resolve: () => (clearTimeout(t), resolve()) };
      }),
    close: () => new Promise<void>((r) => (server.closeAllConnections(), server.close(() => r()))),
  };
}

async function addSink(
  tenantId: string,
  rcv: { base: string },
  secrets: Map<string, string>,
  batch?: { maxEvents: number; maxWaitMs: number },
  status: 'ACTIVE' | 'PAUSED' = 'ACTIVE',
) {
  const secret = generateSecret();
  const id = crypto.randomUUID();
  secrets.set(id, secret);
  await withTenant(db, tenantId, (tx) =>
    tx.streamSink.create({
      data: {
        id,
        tenantId,
        name: 'bench',
        url: `${rcv.base}/${id}`,
        topics: ['LOCATION_UPDATES'],
        status,
        secretEnc: encryptSecret(secret, key),
        ...(batch ? { batchMaxEvents: batch.maxEvents, batchMaxWaitMs: batch.maxWaitMs } : {}),
      },
    }),
  );
  return id;
}

/** Writes `count` location events of `sessions` sessions, `perTx` per outbox transaction. */
async function writeOutbox(tenantId: string, count: number, sessions = 50, perTx = 1_000) {
  const ss = Array.from({ length: sessions }, () => crypto.randomUUID());
  for (let i = 0; i < count; i += perTx)
    await withTenant(
      db,
      tenantId,
      (tx) =>
        appendOutbox(
          tx,
          Array.from({ length: Math.min(perTx, count - i) }, (_, j) => ({
            topic: Topic.LOCATION_UPDATES,
            type: 'location.recorded.v1' as const,
            tenantId,
            entityId: ss[(i + j) % sessions],
            data: { i: i + j, latitude: 52.52, longitude: 13.405, speed: 8.5, heading: 90 },
          })),
        ),
      // A loaded shared machine can take longer than the default 10 s for 1,000 rows.
      { timeoutMs: 60_000 },
    );
}

const start = (tenantIds: string[], extra: Record<string, unknown> = {}) => {
  const t = tag();
  return startStreamingPipeline({
    db,
    log,
    brokers,
    groupId: t,
    topicPrefix: `${t}.`,
    secretKey: key,
    urlPolicy: { allowLoopback: true },
    relayPollIntervalMs: 20,
    dispatcherPollIntervalMs: 20,
    tenantIds,
    ...extra,
  });
};

const results: Record<string, unknown> = new Proxy({} as Record<string, unknown>, {
  set(t, k, v) {
    t[k as string] = v;
    console.log(JSON.stringify({ [k]: v }));
    return true;
  },
});
Object.assign(results, {
  note: 'shared 2-core machine, other engineers running tests: medians of interleaved rounds',
  loadAverage: (await import('node:os')).loadavg().map((x) => Number(x.toFixed(1))),
});

// A) Relay alone: outbox rows published to Kafka per second, written first (1,000 per transaction),
//    then published by one relay scoped to their tenant. Comparisons between versions of the relay:
//    bench/streaming/compare.sh with BENCH_ONLY=A (rounds interleaved).
if (ONLY.has('A')) {
  const rows = env('BENCH_RELAY_ROWS', 50_000);
  const eventLog = createKafkaEventLog({ brokers, clientId: 'bench-relay', log });
  const perRound: number[] = [];
  // Rows published while an older transaction anywhere on the server was open are marked one by one.
  const markedOneByOne: (number | undefined)[] = [];
  for (let r = 0; r < ROUNDS; r++) {
    const tenant = await newTenant();
    await writeOutbox(tenant.id, rows);
    const topics = topicNames(`${tag()}.`);
    // 12 partitions: a relay that sends a 5,000-row batch as one request (the relay before the cursor)
    // stays under the broker's 1 MiB per partition (with 3, the busiest partition's share sometimes
    // exceeds it and the send fails every time).
    await eventLog.ensureTopics([topics.of(Topic.LOCATION_UPDATES)], 12);
    const relay = createOutboxRelay({ db, eventLog, topics, log, tenantIds: [tenant.id] });
    const t0 = performance.now();
    let done = 0;
    while (done < rows) done += await relay.tick();
    perRound.push(Math.round(rows / ((performance.now() - t0) / 1_000)));
    markedOneByOne.push((relay as { markedOneByOne?: number }).markedOneByOne);
    await relay.stop();
  }
  await eventLog.stop();
  results['A relay alone, rows/s'] = { median: median(perRound), rounds: perRound, markedOneByOne };
}

// F) The relay's share of the latency: steady 1,000 events/s (10 outbox transactions of 100 per
//    second, as D) published by one relay with its default poll intervals (no in-process wake: in
//    production the writers are other processes); outbox commit → acknowledged by Kafka (the
//    relay's send resolved), per event. Then the relay idles: its transactions per second while
//    the outbox stays empty.
if (ONLY.has('F')) {
  const seconds = env('BENCH_STEADY_SECONDS', 15);
  const eventLog = createKafkaEventLog({ brokers, clientId: 'bench-relay-steady', log });
  const tenant = await newTenant();
  const topics = topicNames(`${tag()}.`);
  await eventLog.ensureTopics([topics.of(Topic.LOCATION_UPDATES)], 12);
  const committed = new Map<string, number>();
  const acked = new Map<string, number>();
  const lat: number[] = [];
  // Whichever of commit (the writer's transaction returned) and ack comes second records the
  // latency: the relay may publish a row before its writer has heard that the commit succeeded.
  const settle = (id: string) => {
    const c = committed.get(id);
    const a = acked.get(id);
    if (c === undefined || a === undefined) return;
    lat.push(Math.max(0, a - c));
    committed.delete(id);
    acked.delete(id);
  };
  let sends = 0;
  const timed: EventLog = {
    ...eventLog,
    producer() {
      const p = eventLog.producer();
      return {
        ...p,
        sendBatch: async (batch) => {
          await p.sendBatch(batch);
          sends++;
          const at = performance.now();
          for (const b of batch)
            for (const m of b.messages) {
              const id = (JSON.parse(m.value) as { id: string }).id;
              acked.set(id, at);
              settle(id);
            }
        },
      };
    },
  };
  const relay = createOutboxRelay({ db, eventLog: timed, topics, log, tenantIds: [tenant.id] });
  relay.start();
  const ss = Array.from({ length: 50 }, () => crypto.randomUUID());
  const write = async (tick: number) => {
    const envs = await withTenant(db, tenant.id, (tx) =>
      appendOutbox(
        tx,
        Array.from({ length: 100 }, (_, j) => ({
          topic: Topic.LOCATION_UPDATES,
          type: 'location.recorded.v1' as const,
          tenantId: tenant.id,
          entityId: ss[j % 50],
          data: { tick, j },
        })),
      ),
    );
    const at = performance.now();
    for (const e of envs) {
      committed.set(e.id, at);
      settle(e.id);
    }
    return envs.length;
  };
  const until = async (n: number) => {
    for (let i = 0; i < 600 && lat.length < n; i++) await new Promise((r) => setTimeout(r, 100));
  };
  // Warm-up, not measured: the producer connects and fetches the topic's metadata on its first send.
  await until(await write(-1));
  lat.length = 0;
  const sendsFrom = sends;
  const t0 = performance.now();
  let written = 0;
  for (let tick = 0; tick < seconds * 10; tick++) {
    const due = t0 + tick * 100;
    if (performance.now() < due) await new Promise((r) => setTimeout(r, due - performance.now()));
    written += await write(tick);
  }
  const offered = written / ((performance.now() - t0) / 1_000);
  await until(written);
  const sendsBefore = sends - sendsFrom;
  // Idle: the relay's polls (transactions) per second over 3 s with nothing to publish, from 2 s
  // after the last row (past the busy window). A relay without the `polls` figure gives null.
  await new Promise((r) => setTimeout(r, 2_000));
  const polls = () => (relay as { polls?: number }).polls ?? NaN;
  const idleFrom = polls();
  await new Promise((r) => setTimeout(r, 3_000));
  const idlePolls = (polls() - idleFrom) / 3;
  await relay.stop();
  await eventLog.stop();
  results['F relay share of the latency, steady 1,000 events/s: commit → in Kafka'] = {
    offeredEventsPerSecond: Math.round(offered),
    events: written,
    measured: lat.length,
    sends: sendsBefore,
    latencyMs: {
      p50: pct(lat, 50).toFixed(1),
      p90: pct(lat, 90).toFixed(1),
      p99: pct(lat, 99).toFixed(1),
      max: Math.max(...lat).toFixed(1),
    },
    idlePollsPerSecond: Number.isFinite(idlePolls) ? Number(idlePolls.toFixed(1)) : null,
  };
}

// B) One sink, a backlog written first, then the pipeline drains it end to end: batched sink
//    (1,000 per request) vs one event per request (the previous path), interleaved.
if (ONLY.has('B')) {
  const per: Record<string, number[]> = { 'batched 1000/100ms': [], 'one event per request': [] };
  for (let r = 0; r < ROUNDS; r++)
    for (const name of Object.keys(per)) {
      const batched = name.startsWith('batched');
      const events = batched ? env('BENCH_BATCH_EVENTS', 20_000) : env('BENCH_SINGLE_EVENTS', 2_000);
      const tenant = await newTenant();
      const secrets = new Map<string, string>();
      const rcv = await receiver(secrets);
      await addSink(tenant.id, rcv, secrets, batched ? { maxEvents: 1_000, maxWaitMs: 100 } : undefined);
      await writeOutbox(tenant.id, events);
      const p = await start([tenant.id]);
      const t0 = performance.now();
      await rcv.until(events, 600_000);
      per[name]!.push(Math.round(events / ((performance.now() - t0) / 1_000)));
      await p.stop();
      await rcv.close();
    }
  results['B one sink, end to end events/s'] = Object.fromEntries(
    Object.entries(per).map(([k, v]) => [k, { median: median(v), rounds: v }]),
  );
}

// C) 50 unbatched sinks of 5 tenants (10 each): HTTP deliveries per second.
if (ONLY.has('C')) {
  const perTenant = env('BENCH_FANOUT_EVENTS', 40);
  const tenants = await Promise.all(Array.from({ length: 5 }, () => newTenant()));
  const secrets = new Map<string, string>();
  const rcv = await receiver(secrets);
  for (const t of tenants) for (let i = 0; i < 10; i++) await addSink(t.id, rcv, secrets);
  for (const t of tenants) await writeOutbox(t.id, perTenant, 10, perTenant);
  const p = await start(
    tenants.map((t) => t.id),
    {},
  );
  const t0 = performance.now();
  await rcv.until(perTenant * 50, 600_000);
  const s = (performance.now() - t0) / 1_000;
  results['C 50 unbatched sinks / 5 tenants'] = {
    deliveries: perTenant * 50,
    deliveriesPerSecond: Math.round((perTenant * 50) / s),
    requests: rcv.requests,
  };
  await p.stop();
  await rcv.close();
}

// D) Steady 1,000 events/s (10 transactions of 100 per second) to a batched sink (maxWaitMs 100):
//    outbox commit → arrival.
if (ONLY.has('D')) {
  const seconds = env('BENCH_STEADY_SECONDS', 15);
  const tenant = await newTenant();
  const secrets = new Map<string, string>();
  const rcv = await receiver(secrets);
  const sinkId = await addSink(tenant.id, rcv, secrets, { maxEvents: 1_000, maxWaitMs: 100 });
  const p = await start([tenant.id]);
  const committed = new Map<string, number>();
  const ss = Array.from({ length: 50 }, () => crypto.randomUUID());
  const t0 = performance.now();
  let written = 0;
  for (let tick = 0; tick < seconds * 10; tick++) {
    const due = t0 + tick * 100;
    if (performance.now() < due) await new Promise((r) => setTimeout(r, due - performance.now()));
    const envs = await withTenant(db, tenant.id, (tx) =>
      appendOutbox(
        tx,
        Array.from({ length: 100 }, (_, j) => ({
          topic: Topic.LOCATION_UPDATES,
          type: 'location.recorded.v1' as const,
          tenantId: tenant.id,
          entityId: ss[j % 50],
          data: { tick, j },
        })),
      ),
    );
    const at = performance.now();
    for (const e of envs) committed.set(e.id, at);
    written += envs.length;
  }
  const offered = written / ((performance.now() - t0) / 1_000);
  await rcv.until(written, 120_000);
  const lat = [...committed].map(([id, at]) => rcv.arrivals.get(`${sinkId}:${id}`)! - at);
  // Where the time goes: commit → parked (relay, Kafka, consumer) and parked → arrival (batch wait,
  // lease, request), from the delivery rows' creation time (same machine, so the same clock). Events
  // sent straight from the consumer (a DIRECT sink) leave no row: the split covers the parked ones.
  const parked = await withTenant(db, tenant.id, (tx) =>
    tx.delivery.findMany({ where: { sinkId }, select: { eventId: true, createdAt: true } }),
  );
  const epoch = (t: number) => performance.timeOrigin + t;
  const toParked = parked.map((d) => d.createdAt.getTime() - epoch(committed.get(d.eventId)!));
  const toArrival = parked.map((d) => epoch(rcv.arrivals.get(`${sinkId}:${d.eventId}`)!) - d.createdAt.getTime());
  const split = (xs: number[]) =>
    xs.length === 0 ? null : { p50: pct(xs, 50).toFixed(1), p99: pct(xs, 99).toFixed(1) };
  results['D steady stream to a batched sink (1000/100ms)'] = {
    offeredEventsPerSecond: Math.round(offered),
    events: written,
    requests: rcv.requests,
    latencyMs: { p50: pct(lat, 50).toFixed(1), p90: pct(lat, 90).toFixed(1), p99: pct(lat, 99).toFixed(1) },
    parkedRows: parked.length,
    commitToParkedMs: split(toParked),
    parkedToArrivalMs: split(toArrival),
  };
  await p.stop();
  await rcv.close();
}

// E) An outage: the sink's endpoint answers 503 while BENCH_BACKLOG events pile up (parked, the
//    breaker open), then it recovers and the backlog drains at batch speed; the process's peak RSS
//    meanwhile (pipeline, receiver and writer share this process).
if (ONLY.has('E')) {
  const backlog = env('BENCH_BACKLOG', 100_000);
  const tenant = await newTenant();
  const secrets = new Map<string, string>();
  const rcv = await receiver(secrets, 0, () => down);
  let down = true;
  const sinkId = await addSink(tenant.id, rcv, secrets, { maxEvents: 1_000, maxWaitMs: 100 });
  const p = await start([tenant.id], {
    delivery: { retryScheduleMs: Array(2_000).fill(500), breakerThreshold: 3, breakerHalfOpenAfterMs: 500 },
  });
  const tw = performance.now();
  await writeOutbox(tenant.id, backlog, 50, 1_000);
  const writeS = (performance.now() - tw) / 1_000;
  const deadline = Date.now() + 600_000;
  for (;;) {
    const pending = await withTenant(db, tenant.id, (tx) =>
      tx.delivery.count({ where: { sinkId, status: 'PENDING' } }),
    );
    if (pending >= backlog) break;
    if (Date.now() > deadline) throw new Error(`only ${pending} parked`);
    await new Promise((r) => setTimeout(r, 500));
  }
  const parkedS = (performance.now() - tw) / 1_000;
  let peak = process.memoryUsage().rss;
  const base = peak;
  const sampler = setInterval(() => (peak = Math.max(peak, process.memoryUsage().rss)), 50);
  down = false;
  await rcv.until(1, 60_000);
  const t0 = performance.now(); // the first batch accepted after the outage
  await rcv.until(backlog, 900_000);
  const drainS = (performance.now() - t0) / 1_000;
  clearInterval(sampler);
  results['E backlog after an outage'] = {
    events: backlog,
    writtenToOutboxPerSecond: Math.round(backlog / writeS),
    allParkedAfterSeconds: Number(parkedS.toFixed(1)),
    drainEventsPerSecond: Math.round(backlog / drainS),
    requests: rcv.requests,
    rssMiB: { beforeDrain: Math.round(base / 2 ** 20), peakDuringDrain: Math.round(peak / 2 ** 20) },
  };
  await p.stop();
  await rcv.close();
}

await db.$disconnect();
