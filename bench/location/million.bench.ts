// Million-point sessions: `pointCount`, `lastPoint` and `points` stay fast when a session
// holds 1,000,000 points. Run by hand (services up), never by `npm test`:
//
//   npx tsx bench/location/million.bench.ts
//   BENCH_POINTS=200000 BENCH_REQUESTS=100 npx tsx bench/location/million.bench.ts
//
// Setup: a dedicated database (lt_bench_million); one tenant, one MEMBER, one session started
// through the location subgraph; then the points are written in ONE `INSERT … SELECT
// generate_series` as the owner role (through `setupDatabase`'s ownerUrl, tenant set the way
// `withTenant` sets it, so RLS is honoured), with `point_count`/`last_point_id` set to match. No
// outbox rows: this measures reads. Then, as the session's user with a router-signed context,
// straight to the location subgraph (in process, real HTTP): the first page and a deep page
// (`after` a cursor 90 % into the session), p50/p99, and the EXPLAIN (ANALYZE) plans of the SQL
// those resolvers run (same shape as Prisma's), which must use indexes, no seq scan on location_points.
import { randomUUID } from 'node:crypto';
import type { Membership } from '@lt/context';
import { withPlatform, withTenant } from '@lt/db';
import { createLogger } from '@lt/logger';
import { createMemoryPubSub } from '@lt/pubsub';
import { encodeCursor } from '@lt/server';
import { subgraphClient } from '@lt/testing';
import { createLocationSubgraph } from '@lt/subgraph-location';
import { BENCH_CONTEXT_SECRET, benchDatabase } from './database';

const POINTS = Number(process.env['BENCH_POINTS'] ?? 1_000_000);
const REQUESTS = Number(process.env['BENCH_REQUESTS'] ?? 200);
const secret = BENCH_CONTEXT_SECRET;

const { db, owner } = await benchDatabase('lt_bench_million', { max: 4, ownerTimeoutMs: 600_000 });
const server = createLocationSubgraph({
  db,
  log: createLogger({ level: 'error' }),
  contextSecret: secret,
  pubsub: createMemoryPubSub(),
});
const port = await server.start(0);
const call = subgraphClient(`http://127.0.0.1:${port}/graphql`, secret);

const slug = `mbench-${Date.now().toString(36)}`;
const tenant = await withPlatform(db, (tx) => tx.tenant.create({ data: { name: slug, slug } }));
const sub = randomUUID();
const user = await withTenant(db, tenant.id, (tx) =>
  tx.user.create({ data: { cognitoSub: sub, email: `${slug}@example.test`, tenantId: tenant.id, role: 'MEMBER' } }),
);
const me: Membership = { userId: user.id, sub, tenantId: tenant.id, role: 'MEMBER', tenantStatus: 'ACTIVE' };

const started = await call<{ startLocationSession: { id: string; startedAt: string } }>(
  me,
  'mutation { startLocationSession(input: { deviceId: "bench" }) { id startedAt } }',
);
if (started.errors) throw new Error(JSON.stringify(started.errors));
const sessionId = started.data!.startLocationSession.id;
// Points one second apart, ending now (so recordedAt never precedes the session start in real use:
// the session's started_at is moved back to the first point).
const first = new Date(Date.now() - POINTS * 1000);

console.log(`inserting ${POINTS.toLocaleString()} points…`);
const t0 = performance.now();
await withTenant(
  owner,
  tenant.id,
  async (tx) => {
    await tx.$executeRawUnsafe(
      `INSERT INTO location_points (id, tenant_id, session_id, latitude, longitude, speed, recorded_at, received_at)
       SELECT gen_random_uuid(), $1::uuid, $2::uuid, (g % 180) - 89.5, (g % 360) - 179.5, g % 30,
         $3::timestamptz + g * interval '1 second', $3::timestamptz + g * interval '1 second'
       FROM generate_series(0, $4::int - 1) AS g`,
      tenant.id,
      sessionId,
      first.toISOString(),
      POINTS,
    );
    // Counters consistent with the data, as recordPoints keeps them.
    await tx.$executeRawUnsafe(
      `UPDATE location_sessions s SET started_at = $2::timestamptz, point_count = (SELECT count(*) FROM location_points p WHERE p.session_id = s.id),
         last_point_id = (SELECT p.id FROM location_points p WHERE p.session_id = s.id ORDER BY recorded_at DESC, id DESC LIMIT 1)
       WHERE s.id = $1::uuid`,
      sessionId,
      first.toISOString(),
    );
  },
  { timeoutMs: 600_000 },
);
await owner.$executeRawUnsafe('ANALYZE location_points');
await owner.$executeRawUnsafe('ANALYZE location_sessions');
console.log(`inserted in ${((performance.now() - t0) / 1000).toFixed(1)} s`);

// A cursor 90 % of the way into the session (newest first): the point at offset 0.9 × POINTS.
const deepAt = new Date(first.getTime() + Math.floor(POINTS * 0.1) * 1000);
const [deep] = await withTenant(db, tenant.id, (tx) =>
  tx.$queryRawUnsafe<{ id: string }[]>(
    'SELECT id FROM location_points WHERE session_id = $1::uuid AND recorded_at = $2::timestamptz',
    sessionId,
    deepAt.toISOString(),
  ),
);
const deepCursor = encodeCursor([deepAt.toISOString(), deep!.id]);

const POINT = 'id latitude longitude recordedAt';
const Q = `query($id: ID!, $after: String) { locationSession(id: $id) {
  pointCount lastPoint { ${POINT} } points(first: 50, after: $after) { edges { cursor node { ${POINT} } } pageInfo { hasNextPage endCursor } }
} }`;
type R = {
  locationSession: {
    pointCount: number;
    lastPoint: { id: string; recordedAt: string } | null;
    points: { edges: { node: { recordedAt: string } }[]; pageInfo: { hasNextPage: boolean } };
  };
};
const pct = (xs: number[], p: number) =>
  [...xs].sort((a, b) => a - b)[Math.min(xs.length - 1, Math.floor((p / 100) * xs.length))]!;
const results: string[] = [];

async function time(name: string, after: string | null, check: (r: R) => void): Promise<void> {
  const lat: number[] = [];
  for (let i = 0; i < REQUESTS + 20; i++) {
    const s = performance.now();
    const r = await call<R>(me, Q, { id: sessionId, after });
    const ms = performance.now() - s;
    if (r.errors || !r.data?.locationSession) throw new Error(JSON.stringify(r.errors));
    check(r.data as R);
    if (i >= 20) lat.push(ms); // first 20: warm-up
  }
  const line = `${name}: p50 ${pct(lat, 50).toFixed(1)} ms, p99 ${pct(lat, 99).toFixed(1)} ms (${REQUESTS} sequential requests)`;
  results.push(line);
  console.log(line);
}

const lastAt = new Date(first.getTime() + (POINTS - 1) * 1000).toISOString();
await time('first page', null, (r) => {
  const s = r.locationSession;
  if (s.pointCount !== POINTS || s.lastPoint?.recordedAt !== lastAt || s.points.edges.length !== 50)
    throw new Error(`unexpected first page ${JSON.stringify({ n: s.pointCount, last: s.lastPoint })}`);
  if (s.points.edges[0]!.node.recordedAt !== lastAt) throw new Error('first page does not start at the newest point');
});
const afterDeep = new Date(deepAt.getTime() - 1000).toISOString();
await time('deep page (after a cursor 90 % in)', deepCursor, (r) => {
  const e = r.locationSession.points.edges;
  if (e.length !== 50 || e[0]!.node.recordedAt !== afterDeep) throw new Error('deep page starts at the wrong point');
});

// The plans of the SQL behind that query: findSession + withLastPoints (sessions.ts) and
// listPoints (points.ts), written out as Prisma sends them (same WHERE / ORDER BY / LIMIT), run as
// the app role with the tenant set (RLS adds tenant_id = app_current_tenant()).
const plans: [string, string, unknown[]][] = [
  [
    'session (findSession)',
    'SELECT * FROM location_sessions WHERE id = $1::uuid AND user_id = $2::uuid LIMIT 1',
    [sessionId, user.id],
  ],
  [
    'lastPoint (withLastPoints)',
    'SELECT id, latitude, longitude, recorded_at FROM location_points WHERE id IN ($1::uuid)',
    [
      (await withTenant(db, tenant.id, (tx) => tx.locationSession.findFirstOrThrow({ where: { id: sessionId } })))
        .lastPointId,
    ],
  ],
  [
    'points(first: 50) (listPoints)',
    `SELECT id, latitude, longitude, recorded_at FROM location_points WHERE session_id = $1::uuid
     ORDER BY recorded_at DESC, id DESC LIMIT 51 OFFSET 0`,
    [sessionId],
  ],
  [
    'points(first: 50, after) (listPoints)',
    `SELECT id, latitude, longitude, recorded_at FROM location_points WHERE (session_id = $1::uuid
       AND recorded_at <= $2::timestamptz
       AND (recorded_at < $2::timestamptz OR (recorded_at = $2::timestamptz AND id < $3::uuid)))
     ORDER BY recorded_at DESC, id DESC LIMIT 51 OFFSET 0`,
    [sessionId, deepAt.toISOString(), deep!.id],
  ],
];
let seqScans = 0;
let filtered = 0;
for (const [name, sql, params] of plans) {
  const rows = await withTenant(db, tenant.id, (tx) =>
    tx.$queryRawUnsafe<{ 'QUERY PLAN': string }[]>(`EXPLAIN (ANALYZE, COSTS OFF, BUFFERS) ${sql}`, ...params),
  );
  const plan = rows.map((r) => r['QUERY PLAN']).join('\n');
  if (/Seq Scan on location_points/.test(plan)) seqScans++;
  // An index scan that filters away most of the session is a full scan in disguise.
  for (const m of plan.matchAll(/Rows Removed by Filter: (\d+)/g)) if (Number(m[1]) > 1_000) filtered++;
  console.log(`\n── EXPLAIN ${name}\n${plan}`);
}

console.log('\nSummary');
console.log(`- ${POINTS.toLocaleString()} points in one session`);
for (const l of results) console.log(`- ${l}`);
console.log(`- seq scans on location_points in the plans: ${seqScans}; plans filtering > 1,000 rows: ${filtered}`);
if (seqScans > 0 || filtered > 0) process.exitCode = 1;

// Drop the session's points so repeated runs do not grow the dedicated database.
await withTenant(
  owner,
  tenant.id,
  (tx) => tx.$executeRawUnsafe('DELETE FROM location_points WHERE session_id = $1::uuid', sessionId),
  {
    timeoutMs: 600_000,
  },
);
await server.stop();
await db.$disconnect();
await owner.$disconnect();
