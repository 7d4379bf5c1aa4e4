// Fleet history costs, run by hand (services up), never by `npm test`:
//
//   npx tsx bench/location/fleet.bench.ts
//   BENCH_ROUNDS=4 BENCH_SUMMARY_POINTS=200000 BENCH_RETENTION_POINTS=500000 npx tsx bench/location/fleet.bench.ts
//
// A dedicated database (lt_bench_fleet). Straight to two in-process location subgraphs on the
// same database (real HTTP, router-signed contexts): one with the fleet state ON (filters set on
// the tenant — nothing is actually dropped, every check runs —, summaries and devices maintained in
// the point transaction), one with it OFF. Then:
// 1. recordLocations points/s, ON vs OFF in interleaved rounds (BENCH_ROUNDS, order alternating),
//    each round 4 sessions × BENCH_BATCHES batches of 500 points, 4 in flight;
// 2. devices(first: 50) with 10,000 devices (rows written by SQL), p50/p99, all and online: true;
// 3. summary of a BENCH_SUMMARY_POINTS-point session written by SQL: the first read rebuilds the
//    fold once (the cost for a session recorded before summaries existed), then p50/p99 of reads;
// 4. the retention pass deleting BENCH_RETENTION_POINTS expired points (batches of 5,000), its time
//    and the locks it holds (sampled from pg_locks while it runs).
import { randomUUID } from 'node:crypto';
import pg from 'pg';
import type { Membership } from '@lt/context';
import { withPlatform, withTenant } from '@lt/db';
import { createLogger } from '@lt/logger';
import { subgraphClient } from '@lt/testing';
import { createLocationSubgraph, runRetention } from '@lt/subgraph-location';
import { BENCH_CONTEXT_SECRET, benchDatabase } from './database';

const ROUNDS = Number(process.env['BENCH_ROUNDS'] ?? 6);
const BATCHES = Number(process.env['BENCH_BATCHES'] ?? 10);
const SUMMARY_POINTS = Number(process.env['BENCH_SUMMARY_POINTS'] ?? 1_000_000);
const RETENTION_POINTS = Number(process.env['BENCH_RETENTION_POINTS'] ?? 1_000_000);
const REQUESTS = Number(process.env['BENCH_REQUESTS'] ?? 200);
const secret = BENCH_CONTEXT_SECRET;

const urls = await benchDatabase('lt_bench_fleet', { max: 8, ownerTimeoutMs: 900_000 });
const { db, owner } = urls;
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
console.log(`   fleet ON : median ${mOn.toFixed(0)} points/s (rounds ${rates.on.map((x) => x.toFixed(0)).join(', ')})`);
console.log(`   cost: ${(((mOff - mOn) / mOff) * 100).toFixed(1)} % (median vs median, same run)`);

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

console.log(`3. summary of a ${SUMMARY_POINTS.toLocaleString()}-point session`);
const big = (await callOn<{ startLocationSession: { id: string } }>(me, START, { d: 'big' })).data!.startLocationSession
  .id;
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
let t = performance.now();
const rebuilt = await callOn<{ locationSession: { summary: { stops: unknown[]; distanceMeters: number } } }>(
  me,
  SUMMARY,
  { id: big },
);
if (rebuilt.errors) throw new Error(JSON.stringify(rebuilt.errors));
console.log(
  `   first read (one-off rebuild of the fold): ${(performance.now() - t).toFixed(0)} ms; ${rebuilt.data!.locationSession.summary.stops.length} stops, ${(rebuilt.data!.locationSession.summary.distanceMeters / 1000).toFixed(1)} km`,
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

console.log(`4. retention pass expiring ${RETENTION_POINTS.toLocaleString()} points`);
const old = (await callOn<{ startLocationSession: { id: string } }>(me, START, { d: 'old' })).data!.startLocationSession
  .id;
const oldFirst = new Date(Date.now() - 400 * 86_400_000);
await withTenant(
  owner,
  tenant.id,
  async (tx) => {
    await tx.$executeRawUnsafe(
      `INSERT INTO location_points (id, tenant_id, session_id, latitude, longitude, recorded_at, received_at)
     SELECT gen_random_uuid(), $1::uuid, $2::uuid, 52, 13, $3::timestamptz + g * interval '10 ms', now()
     FROM generate_series(0, $4::int - 1) g`,
      tenant.id,
      old,
      oldFirst,
      RETENTION_POINTS,
    );
    await tx.$executeRawUnsafe(
      `INSERT INTO session_summaries (session_id, tenant_id, first_at, last_at) VALUES ($1::uuid, $2::uuid, $3::timestamptz, $3::timestamptz + interval '1 day')`,
      old,
      tenant.id,
      oldFirst,
    );
  },
  { timeoutMs: 900_000 },
);
const watcher = new pg.Client({ connectionString: urls.ownerUrl });
await watcher.connect();
const modes = new Map<string, number>();
let watching = true;
const watch = (async () => {
  while (watching) {
    const r = await watcher.query<{ mode: string; relation: string | null; n: string }>(
      `SELECT l.mode, c.relname AS relation, count(*)::text AS n FROM pg_locks l LEFT JOIN pg_class c ON c.oid = l.relation
        JOIN pg_stat_activity a ON a.pid = l.pid WHERE a.usename = 'lt_app' AND l.granted GROUP BY 1, 2`,
    );
    for (const row of r.rows)
      if (row.relation === 'location_points') modes.set(row.mode, (modes.get(row.mode) ?? 0) + 1);
    await new Promise((res) => setTimeout(res, 20));
  }
})();
t = performance.now();
const run = await runRetention(db, { maxDays: 365 });
const ms = performance.now() - t;
watching = false;
await watch;
await watcher.end();
console.log(
  `   ${run.deleted.toLocaleString()} deleted in ${(ms / 1000).toFixed(1)} s (${run.batches} transactions of ≤ 5,000 rows, ${((run.deleted / ms) * 1000).toFixed(0)} rows/s); table locks seen on location_points: ${[...modes.keys()].join(', ') || 'none sampled'}`,
);

await on.stop();
await off.stop();
await db.$disconnect();
await owner.$disconnect();
