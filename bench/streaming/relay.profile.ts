// CPU profile of the relay alone (scenario A without the writer in the profile): writes
// PROFILE_ROWS outbox rows (default 50,000; 1,000 per transaction, 50 sessions), then profiles only
// the publishing loop of one relay scoped to their tenant (12-partition topic) with the inspector,
// and writes the profile (open it in Chrome DevTools or any .cpuprofile viewer). Also prints the CPU
// time the publishing took in this process and in the Postgres backends of the bench database
// (from /proc, Linux, same machine): on a shared machine CPU per row varies less than rows per
// second. Needs Postgres on 5432 and Kafka on 9092; database BENCH_DATABASE (default
// lt_bench_streaming). PROFILE=0 measures without the profiler.
//
//   PROFILE_OUT=/tmp/relay.cpuprofile npx tsx bench/streaming/relay.profile.ts
import { Session } from 'node:inspector/promises';
import { readFileSync, writeFileSync } from 'node:fs';
import { createDb, setupDatabase, withPlatform, withTenant, MIGRATIONS_DIR } from '@lt/db';
import { appendOutbox, Topic } from '@lt/events';
import { createLogger } from '@lt/logger';
import { createKafkaEventLog, createOutboxRelay, topicNames } from '@lt/subgraph-streaming';

process.env['KAFKAJS_NO_PARTITIONER_WARNING'] = '1';
const log = createLogger({ level: 'warn' });
const urls = await setupDatabase({
  adminUrl: process.env['ADMIN_DATABASE_URL'] ?? 'postgresql://postgres@127.0.0.1:5432/postgres',
  database: process.env['BENCH_DATABASE'] ?? 'lt_bench_streaming',
  ownerPassword: process.env['DB_OWNER_PASSWORD'] ?? 'lt_owner_dev',
  appPassword: process.env['DB_APP_PASSWORD'] ?? 'lt_app_dev',
  migrationsDir: MIGRATIONS_DIR,
});
const db = createDb({ url: urls.appUrl, max: 20 });
const rows = Number(process.env['PROFILE_ROWS'] ?? 50_000);
const name = `prof-${Date.now().toString(36)}`;
const tenant = await withPlatform(db, (tx) => tx.tenant.create({ data: { name, slug: name } }));
const sessions = Array.from({ length: 50 }, () => crypto.randomUUID());
for (let i = 0; i < rows; i += 1_000)
  await withTenant(
    db,
    tenant.id,
    (tx) =>
      appendOutbox(
        tx,
        Array.from({ length: Math.min(1_000, rows - i) }, (_, j) => ({
          topic: Topic.LOCATION_UPDATES,
          type: 'location.recorded.v1' as const,
          tenantId: tenant.id,
          entityId: sessions[(i + j) % 50],
          data: { i: i + j, latitude: 52.52, longitude: 13.405, speed: 8.5, heading: 90 },
        })),
      ),
    { timeoutMs: 60_000 },
  );
const brokers = (process.env['KAFKA_BROKERS'] ?? '127.0.0.1:9092').split(',');
const eventLog = createKafkaEventLog({ brokers, clientId: 'relay-profile', log });
const topics = topicNames(`${name}.`);
await eventLog.ensureTopics([topics.of(Topic.LOCATION_UPDATES)], 12);
const relay = createOutboxRelay({ db, eventLog, topics, log, tenantIds: [tenant.id] });
let done = 0;
const database = process.env['BENCH_DATABASE'] ?? 'lt_bench_streaming';
const admin = createDb({ url: process.env['ADMIN_DATABASE_URL'] ?? 'postgresql://postgres@127.0.0.1:5432/postgres' });
/** CPU ms (user + system) of the Postgres backends connected to the bench database. */
async function backendCpuMs(): Promise<Map<number, number>> {
  const pids = await admin.$queryRaw<{ pid: number }[]>`SELECT pid FROM pg_stat_activity WHERE datname = ${database}`;
  const tick = 10; // ms per clock tick (USER_HZ 100)
  const out = new Map<number, number>();
  for (const { pid } of pids) {
    try {
      const fields = readFileSync(`/proc/${pid}/stat`, 'utf8').split(') ')[1]!.split(' ');
      out.set(pid, (Number(fields[11]) + Number(fields[12])) * tick);
    } catch {
      // gone, or not on this machine
    }
  }
  return out;
}
const profiling = process.env['PROFILE'] !== '0';
const session = new Session();
if (profiling) {
  session.connect();
  await session.post('Profiler.enable');
  await session.post('Profiler.start');
}
const pg0 = await backendCpuMs();
const cpu0 = process.cpuUsage();
const t0 = performance.now();
// Bounded: at most one tick per row (each publishes at least one row or the loop ends).
for (let i = 0; i < rows && done < rows; i++) {
  const n = await relay.tick();
  if (n === 0) break;
  done += n;
}
const ms = performance.now() - t0;
const cpu = process.cpuUsage(cpu0);
const pg1 = await backendCpuMs();
let pgMs = 0;
for (const [pid, at] of pg1) pgMs += at - (pg0.get(pid) ?? 0);
const out = process.env['PROFILE_OUT'] ?? '/tmp/relay.cpuprofile';
if (profiling) writeFileSync(out, JSON.stringify((await session.post('Profiler.stop')).profile));
console.log(
  JSON.stringify({
    rows: done,
    ms: Math.round(ms),
    rowsPerSecond: Math.round(done / (ms / 1_000)),
    nodeCpuMs: Math.round((cpu.user + cpu.system) / 1_000),
    postgresCpuMs: pgMs,
    ...(profiling ? { profile: out } : {}),
  }),
);
await admin.$disconnect();
await relay.stop();
await eventLog.stop();
await db.$disconnect();
