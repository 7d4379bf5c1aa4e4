// Geofence evaluation cost at ingest, side by side in one run: `recordLocations` (batches of 500)
// points/s into tenants holding 0, 100 and 10,000 fences, against the location subgraph (signed
// contexts, real Postgres, Redis pub/sub), with CPU per 1,000 points of this process and of the
// build's Postgres backends; optionally beside the same for a git ref (BENCH_GEO_BASELINE), rounds
// interleaved. Then a point's commit → its ENTER at a router WebSocket subscriber (p50/p99), through
// the whole stack with a cognito-local token.
//
//   npx tsx bench/location/geofence.bench.ts
//   BENCH_GEO_BASELINE=main BENCH_GEO_ROUNDS=5 npx tsx bench/location/geofence.bench.ts
//   node --cpu-prof --cpu-prof-dir=/tmp/prof --import tsx bench/location/geofence.bench.ts
//
// Fences: circles (50–500 m) and hexagons (≈100–600 m across) at random over a 1°×1° area;
// sessions are vehicles on random walks (≈10 m between points) through it, so batches cross fences
// and write ENTER/EXIT/DWELL events like a real fleet (counted and printed).
import { execFileSync, execSync, spawn } from 'node:child_process';
import { randomUUID } from 'node:crypto';
import { existsSync, mkdirSync, readFileSync } from 'node:fs';
import { createInterface } from 'node:readline';
import { loadavg } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath, pathToFileURL } from 'node:url';
import { Redis } from 'ioredis';
import WebSocket from 'ws';
import { createDb, MIGRATIONS_DIR, setupDatabase, withPlatform, withTenant, type Db } from '@lt/db';
import type { Membership } from '@lt/context';
import { createLogger } from '@lt/logger';
import { createRedisPubSub } from '@lt/pubsub';
import { Cognito } from '@lt/subgraph-auth/cognito';
import { subgraphClient } from '@lt/testing';
import { createLocationSubgraph } from '@lt/subgraph-location';

const BATCHES = Number(process.env['BENCH_GEO_BATCHES'] ?? 24); // per variant per round
const CONCURRENCY = Number(process.env['BENCH_GEO_CONCURRENCY'] ?? 4);
const ROUNDS = Number(process.env['BENCH_GEO_ROUNDS'] ?? 2);
const ENTERS = Number(process.env['BENCH_GEO_ENTERS'] ?? 200);
const VARIANTS = (process.env['BENCH_GEO_FENCES'] ?? '0,100,10000').split(',').map(Number);
/** A git ref whose location subgraph is measured beside the working tree's, round by round. */
const BASELINE = process.env['BENCH_GEO_BASELINE'];
const SECRET = 'bench-only-context-secret-0123456789abcdef';
const LAT0 = 52;
const LON0 = 13;

const root = fileURLToPath(new URL('../../', import.meta.url));
const redisUrl = process.env['REDIS_URL'] ?? 'redis://127.0.0.1:6379';
const pub = new Redis(redisUrl);
const pubsub = createRedisPubSub({ publisher: pub, subscriber: new Redis(redisUrl) });
const DATABASE = process.env['BENCH_GEO_DATABASE'] ?? 'lt_bench_geofence';

/** One build of the location subgraph under benchmark, with its own database and tenants. */
interface Build {
  name: string;
  db: Db;
  /** The services role's connection string. */
  appUrl: string;
  call: ReturnType<typeof subgraphClient>;
  stop: () => Promise<void>;
  tenants: Map<number, Membership>;
  walkers: Map<number, Walker[]>;
}
type CreateSubgraph = typeof createLocationSubgraph;

async function startBuild(
  name: string,
  database: string,
  migrationsDir: string,
  create: CreateSubgraph,
): Promise<Build> {
  const urls = await setupDatabase({
    adminUrl: process.env['ADMIN_DATABASE_URL'] ?? 'postgresql://postgres@127.0.0.1:5432/postgres',
    database,
    ownerPassword: process.env['DB_OWNER_PASSWORD'] ?? 'lt_owner_dev',
    appPassword: process.env['DB_APP_PASSWORD'] ?? 'lt_app_dev',
    migrationsDir,
  });
  const db = createDb({ url: urls.appUrl, max: 8 });
  const server = create({ db, log: createLogger({ level: 'error' }), contextSecret: SECRET, pubsub });
  const port = await server.start(0);
  return {
    name,
    db,
    appUrl: urls.appUrl,
    call: subgraphClient(`http://127.0.0.1:${port}/graphql`, SECRET),
    stop: async () => {
      await server.stop();
      await db.$disconnect();
    },
    tenants: new Map(),
    walkers: new Map(),
  };
}

/**
 * The location subgraph (and migrations) of a git ref, extracted under bench/location/.baseline/
 * (ignored by git), so the same run measures it beside the working tree's. It imports the working
 * tree's packages (@lt/db, …) like the current build does.
 */
async function baselineBuild(ref: string): Promise<Build> {
  const sha = execFileSync('git', ['rev-parse', '--short', ref], { cwd: root }).toString().trim();
  const dir = join(root, 'bench/location/.baseline', sha);
  if (!existsSync(join(dir, 'subgraphs/location/src/createLocationSubgraph.ts'))) {
    mkdirSync(dir, { recursive: true });
    execSync(
      `git archive ${sha} subgraphs/location/src subgraphs/location/schema.graphql prisma/migrations | tar -x -C ${JSON.stringify(dir)}`,
      {
        cwd: root,
      },
    );
  }
  const mod = (await import(pathToFileURL(join(dir, 'subgraphs/location/src/createLocationSubgraph.ts')).href)) as {
    createLocationSubgraph: CreateSubgraph;
  };
  return startBuild(`${ref} (${sha})`, `${DATABASE}_base`, join(dir, 'prisma/migrations'), mod.createLocationSubgraph);
}

const builds: Build[] = [];
if (BASELINE) builds.push(await baselineBuild(BASELINE));
builds.push(await startBuild('working tree', DATABASE, MIGRATIONS_DIR, createLocationSubgraph));

/** Deterministic pseudo-random numbers (the same fences and walks for every build). */
function rng(seed: number): () => number {
  let x = seed;
  return () => (x = (x * 1_103_515_245 + 12_345) % 2 ** 31) / 2 ** 31;
}

async function tenantWith(b: Build, fences: number): Promise<Membership> {
  const { db } = b;
  const random = rng(42);
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
         SELECT $1::uuid, 'f' || (o - 1), CASE WHEN p IS NULL THEN 'CIRCLE' ELSE 'POLYGON' END, la, lo, r, p::jsonb, 60
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
  random: () => number;
}
async function walker(b: Build, m: Membership, seed: number): Promise<Walker> {
  const r = await b.call<{ startLocationSession: { id: string } }>(m, 'mutation { startLocationSession { id } }');
  return {
    session: r.data!.startLocationSession.id,
    lat: LAT0 + 0.5,
    lon: LON0 + 0.5,
    t: Date.now() + 1_000,
    random: rng(seed),
  };
}
function batchOf(w: Walker): unknown[] {
  return Array.from({ length: 500 }, () => {
    w.lat = Math.min(LAT0 + 1, Math.max(LAT0, w.lat + (w.random() - 0.5) * 0.00018));
    w.lon = Math.min(LON0 + 1, Math.max(LON0, w.lon + (w.random() - 0.5) * 0.0003));
    w.t += 2;
    return { latitude: w.lat, longitude: w.lon, accuracy: 5, recordedAt: new Date(w.t).toISOString() };
  });
}

async function geofenceEventCount(b: Build, tenantId: string): Promise<number> {
  return withTenant(b.db, tenantId, (tx) => tx.geofenceEvent.count());
}

/** CPU µs (user + system) so far of this process and of each Postgres backend serving the build's database. */
async function cpu(b: Build): Promise<{ node: number; pg: Map<number, number> }> {
  const pids = await b.db.$queryRawUnsafe<{ pid: number }[]>(
    `SELECT pid FROM pg_stat_activity WHERE datname = current_database() AND backend_type = 'client backend'`,
  );
  const pg = new Map<number, number>();
  for (const { pid } of pids) {
    try {
      const stat = readFileSync(`/proc/${pid}/stat`, 'utf8');
      const f = stat.slice(stat.lastIndexOf(')') + 2).split(' ');
      pg.set(pid, (Number(f[11]) + Number(f[12])) * 10_000);
    } catch {
      // gone, or Postgres not on this machine: its CPU is not counted
    }
  }
  const c = process.cpuUsage();
  return { node: c.user + c.system, pg };
}

interface Measure {
  rate: number;
  /** CPU ms per 1,000 points: this process (client + subgraph) and the build's Postgres backends. */
  nodeMs: number;
  pgMs: number;
}

async function throughput(b: Build, fences: number): Promise<Measure> {
  const m = b.tenants.get(fences)!;
  let next = 0;
  const c0 = await cpu(b);
  const t0 = performance.now();
  await Promise.all(
    b.walkers.get(fences)!.map(async (w) => {
      while (next < BATCHES) {
        next++;
        const r = await b.call<{ recordLocations: { accepted: number } }>(m, BATCH, { s: w.session, ls: batchOf(w) });
        if (r.data?.recordLocations.accepted !== 500) throw new Error(JSON.stringify(r.errors));
      }
    }),
  );
  const rate = (BATCHES * 500) / ((performance.now() - t0) / 1000);
  const c1 = await cpu(b);
  let pg = 0;
  for (const [pid, us] of c1.pg) pg += us - (c0.pg.get(pid) ?? 0);
  const per = (us: number) => us / 1000 / ((BATCHES * 500) / 1000);
  return { rate, nodeMs: per(c1.node - c0.node), pgMs: per(pg) };
}

console.log(`setting up tenants with 0, 100 and 10,000 fences for ${builds.map((b) => b.name).join(' and ')}…`);
for (const b of builds)
  for (const n of VARIANTS) {
    b.tenants.set(n, await tenantWith(b, n));
    b.walkers.set(
      n,
      await Promise.all(Array.from({ length: CONCURRENCY }, (_, i) => walker(b, b.tenants.get(n)!, i + 1))),
    );
    // Warm-up: JIT, pools, and the tenant's index (built on its first evaluated batch).
    const w = b.walkers.get(n)![0]!;
    await b.call(b.tenants.get(n)!, BATCH, { s: w.session, ls: batchOf(w) });
  }

// Rounds interleave every variant of every build, so a change in the machine's load hits all alike,
// and the builds swap places every round: whichever runs right after the other pays more Postgres
// CPU per point (40–80 % more, measured on the loaded box), which a fixed order charges to one build.
const results = new Map<string, Measure[]>();
const key = (b: Build, n: number) => `${b.name}/${n}`;
for (let round = 0; round < ROUNDS; round++)
  for (const n of VARIANTS)
    for (const b of round % 2 ? [...builds].reverse() : builds) {
      const r = await throughput(b, n);
      results.set(key(b, n), [...(results.get(key(b, n)) ?? []), r]);
      console.log(
        `round ${round + 1}: ${b.name}, ${n} fences: ${Math.round(r.rate)} points/s, CPU per 1,000 points: ${r.nodeMs.toFixed(1)} ms node, ${r.pgMs.toFixed(1)} ms Postgres`,
      );
    }

// Geofence events the throughput rounds wrote (before the latency part adds its own).
const eventsWritten = new Map<string, number>();
for (const b of builds)
  for (const n of VARIANTS) eventsWritten.set(key(b, n), await geofenceEventCount(b, b.tenants.get(n)!.tenantId!));

// Commit → ENTER at a router WebSocket subscriber: the whole stack (router + subgraphs, server.ts)
// in its own process on the working tree's database; a tenant admin with a cognito-local token
// subscribes to `geofenceEvents` for one fence of the largest tenant while a session's single
// points (`recordLocation` through the router) alternate outside / inside it. Per ENTER: from the
// mutation being sent (commit included: an upper bound of commit → ENTER) and from its response
// (after the commit: a lower bound; ≤ 0 when the event beats the response).
const cur = builds[builds.length - 1]!;
const big = cur.tenants.get(Math.max(...VARIANTS))!;
const [probeRow] = await withTenant(cur.db, big.tenantId!, (tx) =>
  tx.$queryRawUnsafe<{ id: string }[]>(`SELECT id FROM geofences WHERE name = 'f0'`),
);
const fromSend: number[] = [];
const fromResponse: number[] = [];
if (ENTERS > 0 && probeRow) {
  const cognito = new Cognito({
    endpoint: process.env['COGNITO_ENDPOINT'] ?? 'http://127.0.0.1:9229',
    userPoolId: process.env['COGNITO_USER_POOL_ID'] ?? 'local_supergraph',
    clientId: process.env['COGNITO_CLIENT_ID'] ?? 'supergraphlocalclient',
  });
  const email = `gbench-${randomUUID().slice(0, 8)}@example.test`;
  const sub = await cognito.signUp(email, 'Passw0rd-bench');
  await cognito.adminConfirmSignUp(sub);
  await withTenant(cur.db, big.tenantId!, (tx) =>
    tx.user.create({ data: { cognitoSub: sub, email, tenantId: big.tenantId!, role: 'TENANT_ADMIN' } }),
  );
  const auth = `Bearer ${(await cognito.passwordAuth(email, 'Passw0rd-bench')).accessToken}`;

  const child = spawn(process.execPath, ['--import', 'tsx', fileURLToPath(new URL('./server.ts', import.meta.url))], {
    env: { ...process.env, DATABASE_URL: cur.appUrl },
    stdio: ['pipe', 'pipe', 'inherit'],
  });
  process.once('exit', () => child.kill('SIGKILL'));
  const routerUrl = await new Promise<string>((resolve, reject) => {
    const timer = setTimeout(() => reject(new Error('stack not up within 120 s')), 120_000);
    createInterface({ input: child.stdout! }).on('line', (l) => {
      if (!l.startsWith('{"routerUrl"')) return;
      clearTimeout(timer);
      resolve((JSON.parse(l) as { routerUrl: string }).routerUrl);
    });
  });
  const gql = async <T>(query: string, variables: Record<string, unknown>): Promise<T> => {
    const res = await fetch(routerUrl, {
      method: 'POST',
      headers: { 'content-type': 'application/json', authorization: auth },
      body: JSON.stringify({ query, variables }),
      signal: AbortSignal.timeout(30_000),
    });
    const body = (await res.json()) as { data?: T; errors?: unknown[] };
    if (body.errors) throw new Error(JSON.stringify(body.errors));
    return body.data!;
  };

  let onEnter: ((pointId: string, t: number) => void) | null = null;
  const ws = new WebSocket(routerUrl.replace(/^http/, 'ws'), 'graphql-transport-ws');
  await new Promise<void>((resolve, reject) => {
    ws.once('error', reject);
    ws.on('open', () => ws.send(JSON.stringify({ type: 'connection_init', payload: { authorization: auth } })));
    ws.on('message', (raw) => {
      const t = performance.now();
      const m = JSON.parse(String(raw)) as {
        type: string;
        payload?: { data?: { geofenceEvents: { type: string; point: { id: string } } } };
      };
      if (m.type === 'connection_ack') {
        ws.send(
          JSON.stringify({
            id: '1',
            type: 'subscribe',
            payload: {
              query: `subscription($g: ID) { geofenceEvents(geofenceId: $g) { id type point { id } session { id } } }`,
              variables: { g: probeRow.id },
            },
          }),
        );
        resolve();
      } else if (m.type === 'error') reject(new Error(`subscription refused: ${JSON.stringify(m.payload)}`));
      else if (m.type === 'next' && m.payload?.data?.geofenceEvents.type === 'ENTER')
        onEnter?.(m.payload.data.geofenceEvents.point.id, t);
    });
  });

  const session = (await gql<{ startLocationSession: { id: string } }>('mutation { startLocationSession { id } }', {}))
    .startLocationSession.id;
  let at = Date.now();
  const ONE = `mutation($s: ID!, $l: LocationInput!) { recordLocation(sessionId: $s, location: $l) { id } }`;
  const record = (latitude: number) =>
    gql<{ recordLocation: { id: string } }>(ONE, {
      s: session,
      l: { latitude, longitude: 20, recordedAt: new Date((at = Math.max(at + 10, Date.now()))).toISOString() },
    });
  /** One OUT point, then one IN point; the IN point's ENTER arrival, send and response times. */
  const enter = async (): Promise<{ sent: number; answered: number; arrived: number } | null> => {
    await record(61);
    const arrivals = new Map<string, number>();
    let wake: (() => void) | null = null;
    onEnter = (id, t) => {
      arrivals.set(id, t);
      wake?.();
    };
    const sent = performance.now();
    const { recordLocation } = await record(60);
    const answered = performance.now();
    if (!arrivals.has(recordLocation.id))
      await new Promise<void>((resolve) => {
        const timer = setTimeout(resolve, 10_000);
        wake = () => {
          if (arrivals.has(recordLocation.id)) {
            clearTimeout(timer);
            resolve();
          }
        };
      });
    onEnter = null;
    const arrived = arrivals.get(recordLocation.id);
    return arrived === undefined ? null : { sent, answered, arrived };
  };
  // Warm-up: the subscription becomes active, the stack's caches and the tenant's index fill.
  let warm = 0;
  for (let i = 0; i < 20 && warm < 5; i++) if (await enter()) warm++;
  if (warm < 5) throw new Error('no ENTER reached the WebSocket subscriber during the warm-up');
  let missed = 0;
  for (let i = 0; i < ENTERS; i++) {
    const r = await enter();
    if (!r) {
      missed++;
      continue;
    }
    fromSend.push(r.arrived - r.sent);
    fromResponse.push(r.arrived - r.answered);
  }
  if (missed > 0) console.error(`${missed} ENTERs not received within 10 s`);
  ws.close();
  child.stdin!.write('stop\n');
  await new Promise((r) => child.once('exit', r));
}
const pct = (xs: number[], p: number) =>
  [...xs].sort((a, b) => a - b)[Math.min(xs.length - 1, Math.floor((p / 100) * xs.length))] ?? NaN;

console.log('\nrecordLocations, batches of 500, concurrency', CONCURRENCY, `(${BATCHES} batches × ${ROUNDS} rounds)`);
console.log(
  '| fences | build | points/s per round | median points/s | CPU ms per 1,000 points, node + Postgres (median) | geofence events written |',
);
console.log('| --- | --- | --- | --- | --- | --- |');
const median = (xs: number[]) => [...xs].sort((x, y) => x - y)[Math.floor(xs.length / 2)]!;
for (const n of VARIANTS)
  for (const b of builds) {
    const r = results.get(key(b, n))!;
    const nodeMs = median(r.map((x) => x.nodeMs));
    const pgMs = median(r.map((x) => x.pgMs));
    console.log(
      `| ${n} | ${b.name} | ${r.map((x) => Math.round(x.rate)).join(', ')} | ${Math.round(median(r.map((x) => x.rate)))} | ${nodeMs.toFixed(1)} + ${pgMs.toFixed(1)} | ${eventsWritten.get(key(b, n))} |`,
    );
  }
console.log(
  `load average at the end: ${loadavg()
    .map((x) => x.toFixed(1))
    .join(', ')}`,
);
console.log(
  `\nrecordLocation through the router → its ENTER at a router WebSocket subscriber (${Math.max(...VARIANTS)} fences, ${fromSend.length} ENTERs): ` +
    `from send p50 ${pct(fromSend, 50).toFixed(1)} ms, p99 ${pct(fromSend, 99).toFixed(1)} ms; ` +
    `from response p50 ${pct(fromResponse, 50).toFixed(1)} ms, p99 ${pct(fromResponse, 99).toFixed(1)} ms`,
);
for (const b of builds) await b.stop();
await pubsub.close();
pub.disconnect();
// Redis subscriber connections keep the event loop alive.
process.exit(0);
