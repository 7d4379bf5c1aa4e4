// Geofence evaluation cost at ingest, side by side in one run: `recordLocations` (batches of 500)
// points/s into tenants holding 0, 100 and 10,000 fences, against the location subgraph (signed
// contexts, real Postgres, Redis pub/sub), plus the time from a point's commit to its ENTER live
// event at a Redis subscriber of the tenant's channel (p50/p99).
//
//   npx tsx bench/location/geofence.bench.ts
//   BENCH_GEO_BATCHES=40 BENCH_GEO_ROUNDS=2 BENCH_GEO_ENTERS=300 npx tsx bench/location/geofence.bench.ts
//
// Fences: circles (50–500 m) and hexagons (≈100–600 m across) at random over a 1°×1° area;
// sessions are vehicles on random walks (≈10 m between points) through it, so batches cross fences
// and write ENTER/EXIT/DWELL events like a real fleet (counted and printed).
import { randomUUID } from 'node:crypto';
import { Redis } from 'ioredis';
import { createDb, setupDatabase, withPlatform, withTenant, MIGRATIONS_DIR } from '@lt/db';
import type { Membership } from '@lt/context';
import { createLogger } from '@lt/logger';
import { createRedisPubSub, parseLiveEvent, tenantChannel } from '@lt/pubsub';
import { subgraphClient } from '@lt/testing';
import { createLocationSubgraph } from '@lt/subgraph-location';

const BATCHES = Number(process.env['BENCH_GEO_BATCHES'] ?? 24); // per variant per round
const CONCURRENCY = Number(process.env['BENCH_GEO_CONCURRENCY'] ?? 4);
const ROUNDS = Number(process.env['BENCH_GEO_ROUNDS'] ?? 2);
const ENTERS = Number(process.env['BENCH_GEO_ENTERS'] ?? 200);
const VARIANTS = [0, 100, 10_000];
const SECRET = 'bench-only-context-secret-0123456789abcdef';
const LAT0 = 52;
const LON0 = 13;

const urls = await setupDatabase({
  adminUrl: process.env['ADMIN_DATABASE_URL'] ?? 'postgresql://postgres@127.0.0.1:5432/postgres',
  database: 'lt_bench_geofence',
  ownerPassword: process.env['DB_OWNER_PASSWORD'] ?? 'lt_owner_dev',
  appPassword: process.env['DB_APP_PASSWORD'] ?? 'lt_app_dev',
  migrationsDir: MIGRATIONS_DIR,
});
const db = createDb({ url: urls.appUrl, max: 8 });
const redisUrl = process.env['REDIS_URL'] ?? 'redis://127.0.0.1:6379';
const pub = new Redis(redisUrl);
const pubsub = createRedisPubSub({ publisher: pub, subscriber: new Redis(redisUrl) });
const server = createLocationSubgraph({ db, log: createLogger({ level: 'error' }), contextSecret: SECRET, pubsub });
const port = await server.start(0);
const call = subgraphClient(`http://127.0.0.1:${port}/graphql`, SECRET);

let rnd = 42;
const random = () => (rnd = (rnd * 1_103_515_245 + 12_345) % 2 ** 31) / 2 ** 31;

async function tenantWith(fences: number): Promise<Membership> {
  const slug = `gbench-${fences}-${randomUUID().slice(0, 8)}`;
  const tenant = await withPlatform(db, (tx) => tx.tenant.create({ data: { name: slug, slug } }));
  const user = await withTenant(db, tenant.id, (tx) =>
    tx.user.create({
      data: { cognitoSub: randomUUID(), email: `${slug}@example.test`, tenantId: tenant.id, role: 'TENANT_ADMIN' },
    }),
  );
  if (fences > 0) {
    const rows = Array.from({ length: fences }, (_, i) => {
      // Fence 0 of each tenant: the probe for the ENTER latency, far from the walkers' area.
      if (i === 0) return { lat: 60, lon: 20, r: 100, poly: null };
      const lat = LAT0 + random();
      const lon = LON0 + random();
      if (i % 2 === 0) return { lat, lon, r: 50 + random() * 450, poly: null };
      const d = (50 + random() * 250) / 111_000;
      const ring = Array.from({ length: 7 }, (_, k) => {
        const a = ((k % 6) * Math.PI) / 3;
        return [lon + (d * Math.cos(a)) / Math.cos((lat * Math.PI) / 180), lat + d * Math.sin(a)];
      });
      return { lat: null, lon: null, r: null, poly: JSON.stringify(ring) };
    });
    await withTenant(db, tenant.id, async (tx) => {
      await tx.$executeRawUnsafe(
        `INSERT INTO geofences (tenant_id, name, shape_type, latitude, longitude, radius_meters, polygon, dwell_seconds)
         SELECT $1::uuid, 'f' || o, CASE WHEN p IS NULL THEN 'CIRCLE' ELSE 'POLYGON' END, la, lo, r, p::jsonb, 60
         FROM unnest($2::float8[], $3::float8[], $4::float8[], $5::text[]) WITH ORDINALITY AS u(la, lo, r, p, o)`,
        tenant.id,
        rows.map((r) => r.lat),
        rows.map((r) => r.lon),
        rows.map((r) => r.r),
        rows.map((r) => r.poly),
      );
      await tx.$executeRawUnsafe(
        `INSERT INTO geofence_tenant_state (tenant_id, version, fence_count) VALUES ($1::uuid, 1, $2)`,
        tenant.id,
        fences,
      );
    });
  }
  return { userId: user.id, sub: user.cognitoSub, tenantId: tenant.id, role: 'TENANT_ADMIN', tenantStatus: 'ACTIVE' };
}

const BATCH = `mutation($s: ID!, $ls: [LocationInput!]!) { recordLocations(sessionId: $s, locations: $ls) { accepted } }`;
interface Walker {
  session: string;
  lat: number;
  lon: number;
  t: number;
}
async function walker(m: Membership): Promise<Walker> {
  const r = await call<{ startLocationSession: { id: string } }>(m, 'mutation { startLocationSession { id } }');
  return { session: r.data!.startLocationSession.id, lat: LAT0 + 0.5, lon: LON0 + 0.5, t: Date.now() + 1_000 };
}
function batchOf(w: Walker): unknown[] {
  return Array.from({ length: 500 }, () => {
    w.lat = Math.min(LAT0 + 1, Math.max(LAT0, w.lat + (random() - 0.5) * 0.00018));
    w.lon = Math.min(LON0 + 1, Math.max(LON0, w.lon + (random() - 0.5) * 0.0003));
    w.t += 2;
    return { latitude: w.lat, longitude: w.lon, accuracy: 5, recordedAt: new Date(w.t).toISOString() };
  });
}

async function geofenceEventCount(tenantId: string): Promise<number> {
  return withTenant(db, tenantId, (tx) => tx.geofenceEvent.count());
}

async function throughput(m: Membership, walkers: Walker[]): Promise<number> {
  let next = 0;
  const t0 = performance.now();
  await Promise.all(
    walkers.map(async (w) => {
      while (next < BATCHES) {
        next++;
        const r = await call<{ recordLocations: { accepted: number } }>(m, BATCH, { s: w.session, ls: batchOf(w) });
        if (r.data?.recordLocations.accepted !== 500) throw new Error(JSON.stringify(r.errors));
      }
    }),
  );
  return (BATCHES * 500) / ((performance.now() - t0) / 1000);
}

console.log('setting up tenants with 0, 100 and 10,000 fences…');
const tenants = new Map<number, Membership>();
for (const n of VARIANTS) tenants.set(n, await tenantWith(n));
const walkers = new Map<number, Walker[]>();
for (const n of VARIANTS)
  walkers.set(n, await Promise.all(Array.from({ length: CONCURRENCY }, () => walker(tenants.get(n)!))));
// Warm-up: JIT, pools, and each tenant's index (built on its first evaluated batch).
for (const n of VARIANTS) {
  const w = walkers.get(n)![0]!;
  await call(tenants.get(n)!, BATCH, { s: w.session, ls: batchOf(w) });
}

const results = new Map<number, number[]>(VARIANTS.map((n) => [n, []]));
for (let round = 0; round < ROUNDS; round++)
  for (const n of VARIANTS) {
    const rate = await throughput(tenants.get(n)!, walkers.get(n)!);
    results.get(n)!.push(rate);
    console.log(`round ${round + 1}: ${n} fences: ${Math.round(rate)} points/s`);
  }

// Commit → ENTER at a subscriber: single points alternating outside / inside a known fence in the
// 10,000-fence tenant; latency from sending the mutation to receiving the live event.
const big = tenants.get(10_000)!;
const [probeRow] = await withTenant(db, big.tenantId!, (tx) =>
  tx.$queryRawUnsafe<{ id: string }[]>(`SELECT id FROM geofences WHERE name = 'f1'`),
);
const probeId = probeRow!.id;
const waiting = new Map<string, (t: number) => void>();
const off = await pubsub.subscribe(tenantChannel(big.tenantId!, 'live'), (msg) => {
  const e = parseLiveEvent(msg);
  if (e?.kind === 'geofence' && e.events.some((x) => x.geofenceId === probeId))
    waiting.get(e.sessionId)?.(performance.now());
});
const w = await walker(big);
const latencies: number[] = [];
const ONE = `mutation($s: ID!, $l: LocationInput!) { recordLocation(sessionId: $s, location: $l) { id } }`;
for (let i = 0; i < ENTERS; i++) {
  await call(big, ONE, {
    s: w.session,
    l: { latitude: 61, longitude: 20, recordedAt: new Date((w.t += 10)).toISOString() },
  });
  const got = new Promise<number>((resolve, reject) => {
    const timer = setTimeout(() => reject(new Error('ENTER not received within 10 s')), 10_000);
    waiting.set(w.session, (t) => {
      clearTimeout(timer);
      resolve(t);
    });
  });
  const t0 = performance.now();
  await call(big, ONE, {
    s: w.session,
    l: { latitude: 60, longitude: 20, recordedAt: new Date((w.t += 10)).toISOString() },
  });
  latencies.push((await got) - t0);
}
await off();
latencies.sort((a, b) => a - b);
const pct = (p: number) => latencies[Math.min(latencies.length - 1, Math.floor((p / 100) * latencies.length))]!;

console.log('\nrecordLocations, batches of 500, concurrency', CONCURRENCY, `(${BATCHES} batches × ${ROUNDS} rounds)`);
console.log('| fences | points/s per round | mean | geofence events written |');
console.log('| --- | --- | --- | --- |');
for (const n of VARIANTS) {
  const r = results.get(n)!;
  const mean = r.reduce((a, b) => a + b, 0) / r.length;
  console.log(
    `| ${n} | ${r.map(Math.round).join(', ')} | ${Math.round(mean)} | ${await geofenceEventCount(tenants.get(n)!.tenantId!)} |`,
  );
}
console.log(
  `\nsend of recordLocation → ENTER live event at a Redis subscriber (10,000 fences, ${ENTERS} ENTERs): p50 ${pct(50).toFixed(1)} ms, p99 ${pct(99).toFixed(1)} ms`,
);
await server.stop();
await pubsub.close();
pub.disconnect();
await db.$disconnect();
// Redis subscriber connections keep the event loop alive.
process.exit(0);
