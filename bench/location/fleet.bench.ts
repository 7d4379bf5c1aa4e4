// Fleet history costs, run by hand (services up), never by `npm test`:
//
//   npx tsx bench/location/fleet.bench.ts
//   BENCH_ROUNDS=4 BENCH_SUMMARY_POINTS=200000 BENCH_RETENTION_POINTS=500000 npx tsx bench/location/fleet.bench.ts
//
// A dedicated database (BENCH_FLEET_DATABASE, default lt_bench_fleet). Straight to two in-process
// location subgraphs on the same database (real HTTP, router-signed contexts): one with the fleet
// state ON (filters set on the tenant — nothing is actually dropped, every check runs —, summaries
// and devices maintained in the point transaction), one with it OFF. Then:
// 1. recordLocations points/s, ON vs OFF in interleaved rounds (BENCH_ROUNDS, order alternating),
//    each round 4 sessions × BENCH_BATCHES batches of 500 points, 4 in flight; then OFF with and
//    without a (tenant, session, recorded_at DESC, id DESC) index on the points, interleaved
//    (BENCH_INDEX_ROUNDS; 0 skips it): what the index the partitioning dropped cost the writes;
// 2. devices(first: 50) with 10,000 devices (rows written by SQL), p50/p99, all and online: true;
// 3. summary of a BENCH_SUMMARY_POINTS-point session written by SQL: the first read rebuilds the
//    fold once (the cost for a session recorded before summaries existed), then p50/p99 of reads;
// 4. retention, each pass timed with the locks it holds sampled from pg_locks (every lock mode on
//    every relation, and the longest continuous hold of each): BENCH_RETENTION_COMPARE_POINTS
//    expired points in the default partition (no weekly partition: bounded batched deletes, what
//    the table did before partitioning), the same number in weekly partitions (dropped whole),
//    then BENCH_RETENTION_POINTS expired points over three weeks of partitions. Rows are written
//    by SQL (generate_series).
import { randomUUID } from 'node:crypto';
import { loadavg } from 'node:os';
import pg from 'pg';
import type { Membership } from '@lt/context';
import { createDb, setupDatabase, withPlatform, withTenant, MIGRATIONS_DIR } from '@lt/db';
import { createLogger } from '@lt/logger';
import { subgraphClient } from '@lt/testing';
import { emptyState, emptyTotals, fleetRules, refold, saveSummary } from '@lt/subgraph-location/testing';
import { createLocationSubgraph, runRetention } from '@lt/subgraph-location';

const ROUNDS = Number(process.env['BENCH_ROUNDS'] ?? 6);
const BATCHES = Number(process.env['BENCH_BATCHES'] ?? 10);
const SUMMARY_POINTS = Number(process.env['BENCH_SUMMARY_POINTS'] ?? 1_000_000);
const RETENTION_POINTS = Number(process.env['BENCH_RETENTION_POINTS'] ?? 10_000_000);
const COMPARE_POINTS = Number(process.env['BENCH_RETENTION_COMPARE_POINTS'] ?? 2_000_000);
const INDEX_ROUNDS = Number(process.env['BENCH_INDEX_ROUNDS'] ?? 4);
/** Sections to run (`1,2,3,4`; default all). */
const ONLY = new Set((process.env['BENCH_ONLY'] ?? '1,2,3,4').split(',').map((x) => x.trim()));
const REQUESTS = Number(process.env['BENCH_REQUESTS'] ?? 200);
const secret = 'bench-only-context-secret-0123456789abcdef';

const urls = await setupDatabase({
  adminUrl: process.env['ADMIN_DATABASE_URL'] ?? 'postgresql://postgres@127.0.0.1:5432/postgres',
  database: process.env['BENCH_FLEET_DATABASE'] ?? 'lt_bench_fleet',
  ownerPassword: process.env['DB_OWNER_PASSWORD'] ?? 'lt_owner_dev',
  appPassword: process.env['DB_APP_PASSWORD'] ?? 'lt_app_dev',
  migrationsDir: MIGRATIONS_DIR,
});
const db = createDb({ url: urls.appUrl, max: 8 });
const owner = createDb({ url: urls.ownerUrl, max: 1, statementTimeoutMs: 900_000 });
const log = createLogger({ level: 'error' });
const on = createLocationSubgraph({ db, log, contextSecret: secret });
const off = createLocationSubgraph({ db, log, contextSecret: secret, fleet: { enabled: false } });
const callOn = subgraphClient(`http://127.0.0.1:${await on.start(0)}/graphql`, secret);
const callOff = subgraphClient(`http://127.0.0.1:${await off.start(0)}/graphql`, secret);

const pct = (xs: number[], p: number): number => {
  const s = [...xs].sort((a, b) => a - b);
  return s[Math.min(s.length - 1, Math.floor((p / 100) * s.length))]!;
};
const median = (xs: number[]): number => pct(xs, 50);

const slug = `fbench-${Date.now().toString(36)}`;
const tenant = await withPlatform(db, (tx) => tx.tenant.create({ data: { name: slug, slug } }));
await withTenant(db, tenant.id, (tx) =>
  tx.tenant.update({
    where: { id: tenant.id },
    data: { maxAccuracyMeters: 1_000, maxSpeedMps: 10_000, dropDuplicates: true },
  }),
);
async function member(role: 'MEMBER' | 'TENANT_ADMIN'): Promise<Membership> {
  const sub = randomUUID();
  const user = await withTenant(db, tenant.id, (tx) =>
    tx.user.create({ data: { cognitoSub: sub, email: `${randomUUID()}@example.test`, tenantId: tenant.id, role } }),
  );
  return { userId: user.id, sub, tenantId: tenant.id, role, tenantStatus: 'ACTIVE' };
}
const me = await member('MEMBER');
const admin = await member('TENANT_ADMIN');

type Call = typeof callOn;
const START = 'mutation($d: String) { startLocationSession(input: { deviceId: $d }) { id } }';
const BATCH = `mutation($s: ID!, $ls: [LocationInput!]!) { recordLocations(sessionId: $s, locations: $ls) { accepted } }`;

/** 4 sessions × BATCHES batches of 500, 4 in flight: points/s. */
async function ingest(call: Call): Promise<number> {
  const sessions: string[] = [];
  for (let i = 0; i < 4; i++) {
    const r = await call<{ startLocationSession: { id: string } }>(me, START, { d: `dev-${i}` });
    sessions.push(r.data!.startLocationSession.id);
  }
  const base = Date.now() + 1_000;
  const t0 = performance.now();
  await Promise.all(
    sessions.map(async (s) => {
      for (let b = 0; b < BATCHES; b++) {
        const ls = Array.from({ length: 500 }, (_, i) => {
          const k = b * 500 + i;
          return {
            latitude: 52 + k * 1e-5,
            longitude: 13,
            accuracy: 5,
            speed: 10,
            recordedAt: new Date(base + k * 10).toISOString(),
          };
        });
        const r = await call<{ recordLocations: { accepted: number } }>(me, BATCH, { s, ls });
        if (r.errors || r.data!.recordLocations.accepted !== 500) throw new Error(JSON.stringify(r.errors));
      }
    }),
  );
  const secs = (performance.now() - t0) / 1000;
  for (const s of sessions) await call(me, 'mutation($id: ID!) { stopLocationSession(id: $id) { id } }', { id: s });
  return (4 * BATCHES * 500) / secs;
}

const load = () =>
  loadavg()
    .map((x) => x.toFixed(2))
    .join(' ');
if (ONLY.has('1')) {
  console.log(`1. recordLocations, ${ROUNDS} interleaved rounds of 4 × ${BATCHES} × 500 points`);
  const rates: Record<'on' | 'off', number[]> = { on: [], off: [] };
  await ingest(callOn); // warm-up
  await ingest(callOff);
  for (let r = 0; r < ROUNDS; r++) {
    for (const mode of r % 2 === 0 ? (['off', 'on'] as const) : (['on', 'off'] as const)) {
      rates[mode].push(await ingest(mode === 'on' ? callOn : callOff));
    }
  }
  const mOn = median(rates.on);
  const mOff = median(rates.off);
  console.log(
    `   fleet OFF: median ${mOff.toFixed(0)} points/s (rounds ${rates.off.map((x) => x.toFixed(0)).join(', ')})`,
  );
  console.log(
    `   fleet ON : median ${mOn.toFixed(0)} points/s (rounds ${rates.on.map((x) => x.toFixed(0)).join(', ')})`,
  );
  console.log(`   cost: ${(((mOff - mOn) / mOff) * 100).toFixed(1)} % (median vs median, same run)`);
  console.log(`   load average: ${load()}`);

  if (INDEX_ROUNDS > 0) {
    console.log(
      `1b. fleet OFF with / without a (tenant, session, recorded_at DESC, id DESC) index, ${INDEX_ROUNDS} rounds`,
    );
    const idx: Record<'with' | 'without', number[]> = { with: [], without: [] };
    for (let r = 0; r < INDEX_ROUNDS; r++) {
      for (const mode of r % 2 === 0 ? (['without', 'with'] as const) : (['with', 'without'] as const)) {
        await owner.$executeRawUnsafe(
          mode === 'with'
            ? 'CREATE INDEX IF NOT EXISTS bench_points_desc_idx ON location_points (tenant_id, session_id, recorded_at DESC, id DESC)'
            : 'DROP INDEX IF EXISTS bench_points_desc_idx',
        );
        idx[mode].push(await ingest(callOff));
      }
    }
    await owner.$executeRawUnsafe('DROP INDEX IF EXISTS bench_points_desc_idx');
    for (const mode of ['without', 'with'] as const)
      console.log(
        `   ${mode} the index: median ${median(idx[mode]).toFixed(0)} points/s (rounds ${idx[mode].map((x) => x.toFixed(0)).join(', ')})`,
      );
    console.log(`   load average: ${load()}`);
  }
}
if (ONLY.has('2')) {
  console.log('2. devices(first: 50) with 10,000 devices');
  await withTenant(owner, tenant.id, (tx) =>
    tx.$executeRawUnsafe(
      `INSERT INTO devices (tenant_id, user_id, device_id, last_seen_at, last_point, last_recorded_at)
     SELECT $1::uuid, $2::uuid, 'bench-' || g, now() - (g % 1200) * interval '1 second',
       jsonb_build_object('id', gen_random_uuid(), 'latitude', 52, 'longitude', 13, 'recordedAt', '2026-01-01T00:00:00.000Z',
         'receivedAt', '2026-01-01T00:00:00.000Z'), now()
     FROM generate_series(1, 10000) g`,
      tenant.id,
      admin.userId,
    ),
  );
  const DEVICES = `query($o: Boolean) { devices(online: $o, first: 50) { edges { node { deviceId online lastSeenAt lastPoint { latitude } activeSession { id } } } } }`;
  for (const [name, o] of [
    ['all', null],
    ['online: true', true],
  ] as const) {
    const lat: number[] = [];
    for (let i = 0; i < REQUESTS; i++) {
      const t = performance.now();
      const r = await callOn<{ devices: { edges: unknown[] } }>(admin, DEVICES, { o });
      lat.push(performance.now() - t);
      if (r.errors || r.data!.devices.edges.length !== 50) throw new Error(JSON.stringify(r.errors));
    }
    console.log(
      `   ${name}: p50 ${pct(lat, 50).toFixed(1)} ms, p99 ${pct(lat, 99).toFixed(1)} ms (${REQUESTS} sequential)`,
    );
  }
}
if (ONLY.has('3')) {
  console.log(`3. summary of a ${SUMMARY_POINTS.toLocaleString()}-point session`);
  // The session's weeks get their partitions, as the retention job would have made them.
  await owner.$executeRawUnsafe(
    `SELECT app_point_partition_create(d::date) FROM generate_series($1::timestamptz, now(), interval '7 days') d`,
    new Date(Date.now() - SUMMARY_POINTS * 1000 - 7 * 86_400_000),
  );
  const big = (await callOn<{ startLocationSession: { id: string } }>(me, START, { d: 'big' })).data!
    .startLocationSession.id;
  const first = new Date(Date.now() - SUMMARY_POINTS * 1000);
  await withTenant(
    owner,
    tenant.id,
    async (tx) => {
      await tx.$executeRawUnsafe(
        `INSERT INTO location_points (id, tenant_id, session_id, latitude, longitude, speed, recorded_at, received_at)
     SELECT gen_random_uuid(), $1::uuid, $2::uuid, 52 + ((g / 600) % 2) * 0.01 + (g % 600) * 1e-6, 13, 5,
       $3::timestamptz + g * interval '1 second', now()
     FROM generate_series(0, $4::int - 1) g`,
        tenant.id,
        big,
        first,
        SUMMARY_POINTS,
      );
      await tx.$executeRawUnsafe(
        `UPDATE location_sessions SET started_at = $2::timestamptz, point_count = $3 WHERE id = $1::uuid`,
        big,
        first,
        SUMMARY_POINTS,
      );
      await tx.$executeRawUnsafe(
        `INSERT INTO session_summaries (session_id, tenant_id, first_at, state) VALUES ($1::uuid, $2::uuid, $3::timestamptz, '{"rebuild": true}')`,
        big,
        tenant.id,
        first,
      );
    },
    { timeoutMs: 900_000 },
  );
  const SUMMARY = `query($id: ID!) { locationSession(id: $id) { summary { distanceMeters durationSeconds movingSeconds stops { startedAt } } } }`;
  // The one-off fold of a session recorded before summaries existed, as the first summary read
  // runs it (refold + saveSummary in one transaction), in process without the read's 30 s
  // transaction deadline: a loaded box may need longer for a million points.
  let t = performance.now();
  const folded = await withTenant(
    db,
    tenant.id,
    async (tx) => {
      const r = (await refold(tx, big, { ...emptyState(), rebuild: true }, emptyTotals(), null, fleetRules()))!;
      await saveSummary(tx, tenant.id, big, r.state, r.totals);
      return r;
    },
    { timeoutMs: 900_000 },
  );
  console.log(
    `   one-off fold of the stored points (what the first read of a pre-summary session runs): ${(performance.now() - t).toFixed(0)} ms; ${folded.state.stops.length} stops, ${(folded.totals.distance / 1000).toFixed(1)} km`,
  );
  const sl: number[] = [];
  for (let i = 0; i < REQUESTS; i++) {
    t = performance.now();
    await callOn(me, SUMMARY, { id: big });
    sl.push(performance.now() - t);
  }
  console.log(
    `   maintained: p50 ${pct(sl, 50).toFixed(1)} ms, p99 ${pct(sl, 99).toFixed(1)} ms (${REQUESTS} sequential)`,
  );

  console.log(`   load average: ${load()}`);
}

/**
 * Locks the services' role holds while `work` runs, sampled from pg_locks every few ms: per
 * relation and mode, the samples seen and the longest continuous hold by one backend.
 */
async function sampleLocks<T>(work: () => Promise<T>) {
  const watcher = new pg.Client({ connectionString: urls.ownerUrl });
  await watcher.connect();
  const seen = new Map<string, { samples: number; longestMs: number }>();
  const open = new Map<string, number>();
  let samples = 0;
  let watching = true;
  const watch = (async () => {
    while (watching) {
      const at = performance.now();
      const r = await watcher.query<{ mode: string; relation: string | null; pid: number }>(
        `SELECT l.mode, coalesce(c.relname, l.relation::text) AS relation, l.pid FROM pg_locks l
           LEFT JOIN pg_class c ON c.oid = l.relation JOIN pg_stat_activity a ON a.pid = l.pid
          WHERE a.usename = 'lt_app' AND l.granted AND l.locktype = 'relation'
            AND (c.relname IS NULL OR c.relname NOT LIKE 'pg\\_%')`,
      );
      samples++;
      const now = new Set<string>();
      for (const row of r.rows) {
        const key = `${row.relation}|${row.mode}`;
        const held = `${key}|${row.pid}`;
        now.add(held);
        if (!open.has(held)) open.set(held, at);
        const e = seen.get(key) ?? { samples: 0, longestMs: 0 };
        e.samples++;
        e.longestMs = Math.max(e.longestMs, at - open.get(held)!);
        seen.set(key, e);
      }
      for (const k of [...open.keys()]) if (!now.has(k)) open.delete(k);
      await new Promise((res) => setTimeout(res, 5));
    }
  })();
  const t0 = performance.now();
  const result = await work();
  const ms = performance.now() - t0;
  watching = false;
  await watch;
  await watcher.end();
  return { result, ms, samples, seen };
}
const STRENGTH = [
  'AccessShareLock',
  'RowShareLock',
  'RowExclusiveLock',
  'ShareUpdateExclusiveLock',
  'ShareLock',
  'ShareRowExclusiveLock',
  'ExclusiveLock',
  'AccessExclusiveLock',
];
function reportLocks(seen: Map<string, { samples: number; longestMs: number }>, samples: number) {
  const rows = [...seen.entries()]
    .map(([k, v]) => {
      const [relation, mode] = k.split('|') as [string, string];
      return { relation: relation.replace(/_p\d{8}$/, '_p<week>'), mode, ...v };
    })
    .sort((a, b) => STRENGTH.indexOf(b.mode) - STRENGTH.indexOf(a.mode) || b.longestMs - a.longestMs);
  const merged = new Map<string, { samples: number; longestMs: number }>();
  for (const r of rows) {
    const k = `${r.mode} on ${r.relation}`;
    const e = merged.get(k) ?? { samples: 0, longestMs: 0 };
    e.samples += r.samples;
    e.longestMs = Math.max(e.longestMs, r.longestMs);
    merged.set(k, e);
  }
  console.log(
    `   locks held (${samples} pg_locks samples; a hold seen once lasted < one sampling interval, ~5-20 ms):`,
  );
  for (const [k, v] of [...merged.entries()].filter(([k]) => !k.startsWith('AccessShareLock')).slice(0, 8))
    console.log(`     ${k}: ${v.samples} samples, longest continuous ${v.longestMs.toFixed(0)} ms`);
}

/** `n` points for a new session of the bench tenant, recorded from `from` every `stepMs`. */
async function oldPoints(n: number, from: Date, stepMs: number, partitions: boolean): Promise<number> {
  const s = (await callOn<{ startLocationSession: { id: string } }>(me, START, { d: 'old' })).data!.startLocationSession
    .id;
  if (partitions)
    await owner.$executeRawUnsafe(
      `SELECT app_point_partition_create(d::date) FROM generate_series($1::timestamptz, $2::timestamptz, interval '7 days') d`,
      from,
      new Date(from.getTime() + n * stepMs + 7 * 86_400_000),
    );
  const t0 = performance.now();
  const CHUNK = 1_000_000;
  for (let off = 0; off < n; off += CHUNK)
    await withTenant(
      owner,
      tenant.id,
      (tx) =>
        tx.$executeRawUnsafe(
          `INSERT INTO location_points (id, tenant_id, session_id, latitude, longitude, recorded_at, received_at)
           SELECT gen_random_uuid(), $1::uuid, $2::uuid, 52, 13, $3::timestamptz + g * ($5::int * interval '1 ms'), now()
           FROM generate_series($4::int, $6::int - 1) g`,
          tenant.id,
          s,
          from,
          off,
          stepMs,
          Math.min(n, off + CHUNK),
        ),
      { timeoutMs: 900_000 },
    );
  await withTenant(owner, tenant.id, (tx) =>
    tx.$executeRawUnsafe(
      `INSERT INTO session_summaries (session_id, tenant_id, first_at, last_at) VALUES ($1::uuid, $2::uuid, $3::timestamptz, $4::timestamptz)`,
      s,
      tenant.id,
      from,
      new Date(from.getTime() + n * stepMs),
    ),
  );
  await owner.$executeRawUnsafe('ANALYZE location_points');
  return performance.now() - t0;
}
const DAY = 86_400_000;
async function retentionPass(label: string) {
  const { result: run, ms, samples, seen } = await sampleLocks(() => runRetention(db, { maxDays: 365 }));
  console.log(
    `   ${label}: ${run.deleted.toLocaleString()} deleted in ${(ms / 1000).toFixed(2)} s — ${run.partitionsDropped} partitions dropped (${run.droppedRows.toLocaleString()} rows), ${run.batches} delete transactions of ≤ 5,000 rows, ${run.lockTimeouts} lock timeouts; load average ${load()}`,
  );
  reportLocks(seen, samples);
}

if (ONLY.has('4')) {
  console.log(`4. retention (POINT_RETENTION_MAX_DAYS 365)`);
  if (COMPARE_POINTS > 0) {
    // 500 days back: no weekly partition there, the rows go to the default one.
    let w = await oldPoints(COMPARE_POINTS, new Date(Date.now() - 500 * DAY), 100, false);
    console.log(
      `   ${COMPARE_POINTS.toLocaleString()} points in the default partition written in ${(w / 1000).toFixed(1)} s`,
    );
    await retentionPass(`batched deletes of ${COMPARE_POINTS.toLocaleString()} (default partition)`);
    w = await oldPoints(COMPARE_POINTS, new Date(Date.now() - 480 * DAY), 100, true);
    console.log(
      `   ${COMPARE_POINTS.toLocaleString()} points in weekly partitions written in ${(w / 1000).toFixed(1)} s`,
    );
    await retentionPass(`partition drops of ${COMPARE_POINTS.toLocaleString()}`);
  }
  if (RETENTION_POINTS > 0) {
    // Three weeks of points, 400 days back.
    const step = Math.max(1, Math.floor((21 * DAY) / RETENTION_POINTS));
    const w = await oldPoints(RETENTION_POINTS, new Date(Date.now() - 400 * DAY), step, true);
    console.log(
      `   ${RETENTION_POINTS.toLocaleString()} points in weekly partitions written in ${(w / 1000).toFixed(1)} s`,
    );
    await retentionPass(`partition drops of ${RETENTION_POINTS.toLocaleString()}`);
  }
}
await on.stop();
await off.stop();
await db.$disconnect();
await owner.$disconnect();
