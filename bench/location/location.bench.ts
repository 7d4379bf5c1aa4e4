// Location benchmarks, through the router with real Cognito (cognito-local) tokens,
// real Postgres and Redis pub/sub; the stack runs in its own process (server.ts).
//
//   npx tsx bench/location/location.bench.ts
//   BENCH_CONCURRENCY=32 BENCH_SINGLE=5000 BENCH_FANOUT_SECONDS=20 npx tsx bench/location/location.bench.ts
//   BENCH_ONLY=fanout BENCH_RATE=100 npx tsx bench/location/location.bench.ts
//
// (1) recordLocation: requests/s and p50/p99 latency at a fixed concurrency.
// (2) recordLocations, batches of 500: points/s stored with their outbox rows (checked).
// (3) fan-out: 1,000 subscribers across 10 tenants while 200 points/s are recorded: delivery
//     latency from the mutation's response, router memory per subscription, cross-tenant deliveries.
import { spawn } from 'node:child_process';
import { createInterface } from 'node:readline';
import { fileURLToPath } from 'node:url';
import WebSocket from 'ws';
import { createDb, setupDatabase, withPlatform, withTenant, MIGRATIONS_DIR } from '@lt/db';
import { Cognito } from '@lt/subgraph-auth/cognito';
import { startProcesses } from './processes';

const CONCURRENCY = Number(process.env['BENCH_CONCURRENCY'] ?? 16);
const SINGLE = Number(process.env['BENCH_SINGLE'] ?? 4_000);
const BATCHES = Number(process.env['BENCH_BATCHES'] ?? 60);
const BATCH_CONCURRENCY = Number(process.env['BENCH_BATCH_CONCURRENCY'] ?? 4);
const FANOUT_SECONDS = Number(process.env['BENCH_FANOUT_SECONDS'] ?? 15);
const TENANTS = 10;
const SUBSCRIBERS_PER_TENANT = 100;
const RATE = Number(process.env['BENCH_RATE'] ?? 200); // points/s during the fan-out
// Points per request during the fan-out: 1 = single recordLocation mutations, more = recordLocations
// batches (mobile clients send a few points at a time). Comma-separated to run several variants.
const POINTS_PER_REQUEST = (process.env['BENCH_POINTS_PER_REQUEST'] ?? '4,1').split(',').map(Number);
// Devices recording during the fan-out (sessions, spread over 2 members × 10 tenants). 20 = each
// device records RATE/20 times a second; 200 = a fleet where each device records about once a second.
const DEVICES = Number(process.env['BENCH_DEVICES'] ?? 20);
const ONLY = process.env['BENCH_ONLY']; // 'single' | 'batch' | 'fanout'
const tag = `lbench-${Date.now().toString(36)}`;
const cognitoOpts = {
  endpoint: process.env['COGNITO_ENDPOINT'] ?? 'http://127.0.0.1:9229',
  userPoolId: process.env['COGNITO_USER_POOL_ID'] ?? 'local_supergraph',
  clientId: process.env['COGNITO_CLIENT_ID'] ?? 'supergraphlocalclient',
};

const urls = await setupDatabase({
  adminUrl: process.env['ADMIN_DATABASE_URL'] ?? 'postgresql://postgres@127.0.0.1:5432/postgres',
  database: 'lt_bench_location',
  ownerPassword: process.env['DB_OWNER_PASSWORD'] ?? 'lt_owner_dev',
  appPassword: process.env['DB_APP_PASSWORD'] ?? 'lt_app_dev',
  migrationsDir: MIGRATIONS_DIR,
});
const db = createDb({ url: urls.appUrl, max: 4 });
const cognito = new Cognito(cognitoOpts);

interface User {
  userId: string;
  tenantId: string;
  role: 'TENANT_ADMIN' | 'MEMBER';
  auth: string;
}
async function createUser(tenantId: string, role: User['role'], i: number): Promise<User> {
  const email = `${tag}-${tenantId.slice(0, 8)}-${i}@example.test`;
  const sub = await cognito.signUp(email, 'Passw0rd-bench');
  await cognito.adminConfirmSignUp(sub);
  const row = await withTenant(db, tenantId, (tx) =>
    tx.user.create({ data: { cognitoSub: sub, email, tenantId, role }, select: { id: true } }),
  );
  const tokens = await cognito.passwordAuth(email, 'Passw0rd-bench');
  return { userId: row.id, tenantId, role, auth: `Bearer ${tokens.accessToken}` };
}

console.log('setting up tenants and users…');
const tenants: { id: string; admin: User; members: User[] }[] = [];
for (let t = 0; t < TENANTS; t++) {
  const slug = `${tag}-${t}`;
  const tenant = await withPlatform(db, (tx) => tx.tenant.create({ data: { name: slug, slug } }));
  const admin = await createUser(tenant.id, 'TENANT_ADMIN', 0);
  const members = [await createUser(tenant.id, 'MEMBER', 1), await createUser(tenant.id, 'MEMBER', 2)];
  tenants.push({ id: tenant.id, admin, members });
}

// ── the stack: one process (server.ts, default) or as deployed, one process per service ──
const TOPOLOGY = process.env['BENCH_TOPOLOGY'] ?? 'one-process';
interface Sample {
  subscriptions: number;
  /** CPU µs so far, per process. */
  cpu: Record<string, number>;
  /** Heap after a forced GC (one-process only) and RSS of the process holding the subscriptions. */
  heapUsed: number | null;
  rss: number;
}
interface StackHandle {
  routerUrl: string;
  sample(): Promise<Sample>;
  stop(): Promise<void>;
}

async function oneProcess(): Promise<StackHandle> {
  const child = spawn(
    process.execPath,
    [
      '--expose-gc',
      // BENCH_CPU_PROF=<dir>: V8 CPU profile of the stack process (written when it stops).
      ...(process.env['BENCH_CPU_PROF'] ? ['--cpu-prof', `--cpu-prof-dir=${process.env['BENCH_CPU_PROF']}`] : []),
      '--import',
      'tsx',
      fileURLToPath(new URL('./server.ts', import.meta.url)),
    ],
    {
      env: { ...process.env, DATABASE_URL: urls.appUrl },
      stdio: ['pipe', 'pipe', 'inherit'],
    },
  );
  // A crashed bench must not leave the stack running.
  process.once('exit', () => child.kill('SIGKILL'));
  const lines = createInterface({ input: child.stdout! });
  // The stack's own log lines (errors and warnings only) are shown as they come.
  lines.on('line', (l) => {
    if (!l.startsWith('{"routerUrl"') && !l.startsWith('{"mem"')) console.error(`[stack] ${l.slice(0, 500)}`);
  });
  /** The next protocol line of the child (log lines on its stdout are skipped). */
  const nextLine = (): Promise<Record<string, unknown>> =>
    new Promise((resolve) => {
      const onLine = (l: string): void => {
        let v: Record<string, unknown> | null = null;
        try {
          v = JSON.parse(l) as Record<string, unknown>;
        } catch {
          // not ours
        }
        if (v && ('routerUrl' in v || 'mem' in v)) {
          lines.off('line', onLine);
          resolve(v);
        }
      };
      lines.on('line', onLine);
    });
  const { routerUrl } = (await nextLine()) as { routerUrl: string };
  return {
    routerUrl,
    async sample() {
      const next = nextLine();
      child.stdin!.write('mem\n');
      const m = (await next) as {
        mem: { rss: number; heapUsed: number };
        cpu: number;
        stats: { subscriptions: number };
      };
      return { subscriptions: m.stats.subscriptions, cpu: { stack: m.cpu }, heapUsed: m.mem.heapUsed, rss: m.mem.rss };
    },
    async stop() {
      child.stdin!.write('stop\n');
      await new Promise((r) => child.once('exit', r));
    },
  };
}

async function manyProcesses(): Promise<StackHandle> {
  const p = await startProcesses({
    databaseUrl: urls.appUrl,
    redisUrl: process.env['REDIS_URL'] ?? 'redis://127.0.0.1:6379',
    cognito: cognitoOpts,
  });
  return {
    routerUrl: p.routerUrl,
    async sample() {
      const s = await p.stats();
      return { subscriptions: s.subscriptions, cpu: s.cpu, heapUsed: null, rss: s.rss.router };
    },
    stop: () => p.stop(),
  };
}

console.log(`starting the stack (${TOPOLOGY})…`);
const stack = TOPOLOGY === 'processes' ? await manyProcesses() : await oneProcess();
const { routerUrl } = stack;

async function gql<T>(user: User, query: string, variables: Record<string, unknown>): Promise<T> {
  const res = await fetch(routerUrl, {
    method: 'POST',
    headers: { 'content-type': 'application/json', authorization: user.auth },
    body: JSON.stringify({ query, variables }),
    signal: AbortSignal.timeout(30_000),
  });
  const body = (await res.json()) as { data?: T; errors?: unknown[] };
  if (body.errors) throw new Error(JSON.stringify(body.errors));
  return body.data!;
}
const startSession = async (u: User) =>
  (await gql<{ startLocationSession: { id: string } }>(u, 'mutation { startLocationSession { id } }', {}))
    .startLocationSession.id;
let clock = Date.now() - 1_000;
// recordedAt must not precede the session start: sessions are started before, so count from now.
const nextAt = () => new Date(Math.max((clock += 1), Date.now() - 500)).toISOString();
const RECORD = 'mutation($s: ID!, $l: LocationInput!) { recordLocation(sessionId: $s, location: $l) { id } }';
const BATCH = 'mutation($s: ID!, $l: [LocationInput!]!) { recordLocations(sessionId: $s, locations: $l) { accepted } }';
const pct = (xs: number[], p: number) =>
  [...xs].sort((a, b) => a - b)[Math.min(xs.length - 1, Math.floor((p / 100) * xs.length))]!;
const results: Record<string, string> = {};
/** Committed transactions in the bench database so far (pg_stat_database, updated at commit). */
const transactions = async (): Promise<number> => {
  const [r] = await db.$queryRawUnsafe<{ n: bigint }[]>(
    'SELECT xact_commit AS n FROM pg_stat_database WHERE datname = current_database()',
  );
  return Number(r!.n);
};

// ── (1) single recordLocation ──
if (!ONLY || ONLY === 'single') {
  const workers = await Promise.all(
    Array.from({ length: CONCURRENCY }, async (_, i) => {
      const u = tenants[i % TENANTS]!.members[i % 2]!;
      return { u, s: await startSession(u) };
    }),
  );
  clock = Date.now();
  const lat: number[] = [];
  let next = 0;
  const run = async (w: (typeof workers)[number], count: boolean) => {
    while (next < SINGLE) {
      next++;
      const t0 = performance.now();
      await gql(w.u, RECORD, { s: w.s, l: { latitude: 1, longitude: 2, recordedAt: nextAt() } });
      if (count) lat.push(performance.now() - t0);
    }
  };
  next = SINGLE - 200; // warm-up
  await Promise.all(workers.map((w) => run(w, false)));
  next = 0;
  const t0 = performance.now();
  await Promise.all(workers.map((w) => run(w, true)));
  const secs = (performance.now() - t0) / 1000;
  results['recordLocation'] =
    `${(lat.length / secs).toFixed(0)} req/s at concurrency ${CONCURRENCY}; p50 ${pct(lat, 50).toFixed(1)} ms, p99 ${pct(lat, 99).toFixed(1)} ms (${lat.length} requests)`;
  console.log('(1)', results['recordLocation']);
}

// ── (2) recordLocations, batches of 500 ──
if (!ONLY || ONLY === 'batch') {
  const workers = await Promise.all(
    Array.from({ length: BATCH_CONCURRENCY }, async (_, i) => {
      const u = tenants[i % TENANTS]!.members[0]!;
      return { u, s: await startSession(u) };
    }),
  );
  clock = Date.now();
  let next = 0;
  let points = 0;
  const t0 = performance.now();
  await Promise.all(
    workers.map(async (w) => {
      while (next < BATCHES) {
        next++;
        const l = Array.from({ length: 500 }, (_, i) => ({
          latitude: (i % 90) + 0.1,
          longitude: 2,
          speed: 1,
          recordedAt: nextAt(),
        }));
        const r = await gql<{ recordLocations: { accepted: number } }>(w.u, BATCH, { s: w.s, l });
        points += r.recordLocations.accepted;
      }
    }),
  );
  const secs = (performance.now() - t0) / 1000;
  let outbox = 0;
  for (const w of workers)
    outbox += await withTenant(db, w.u.tenantId, (tx) =>
      tx.outbox.count({ where: { key: `${w.u.tenantId}:${w.s}`, type: 'location.recorded.v1' } }),
    );
  results['recordLocations'] =
    `${(points / secs).toFixed(0)} points/s (${points} points in ${BATCHES} batches of 500, ${BATCH_CONCURRENCY} in parallel, ${outbox} outbox rows)`;
  console.log('(2)', results['recordLocations']);
}

// ── (3) fan-out ──
if (!ONLY || ONLY === 'fanout') {
  const before = await stack.sample();
  const Q = 'subscription { locationUpdated { session { id user { id } tenant { id } } point { id recordedAt } } }';
  /** Receive times by `sessionId|recordedAt` (unique per session: the retry key), so batches need no ids. */
  const recvAt = new Map<string, number[]>();
  let crossTenant = 0;
  let delivered = 0;
  /** Sockets closed by the router during the run, by code and reason (none expected). */
  const closedBy = new Map<string, number>();
  /** Subscriptions the router refused (none expected: every subscriber must be live). */
  let subscribeErrors = 0;
  const sockets: WebSocket[] = [];
  const opened: Promise<void>[] = [];
  const keyOf = (sessionId: string, recordedAt: string) => `${sessionId}|${Date.parse(recordedAt)}`;
  for (const t of tenants)
    for (let i = 0; i < SUBSCRIBERS_PER_TENANT; i++) {
      // 80 dashboards with the admin's token (one shared source per tenant), 10 per member (own sessions).
      const user = i < 80 ? t.admin : t.members[i % 2]!;
      const ws = new WebSocket(routerUrl.replace(/^http/, 'ws'), 'graphql-transport-ws');
      sockets.push(ws);
      opened.push(
        new Promise<void>((resolve, reject) => {
          ws.once('error', reject);
          ws.once('close', (code, reason) => {
            const k = `${code} ${String(reason)}`;
            closedBy.set(k, (closedBy.get(k) ?? 0) + 1);
            reject(new Error(`socket closed ${k}`));
          });
          ws.on('open', () =>
            ws.send(JSON.stringify({ type: 'connection_init', payload: { authorization: user.auth } })),
          );
          ws.on('message', (raw) => {
            const now = performance.now();
            const m = JSON.parse(String(raw)) as {
              type: string;
              payload?: {
                data?: {
                  locationUpdated: {
                    session: { id: string; tenant: { id: string }; user: { id: string } };
                    point: { id: string; recordedAt: string };
                  };
                };
              };
            };
            if (m.type === 'connection_ack') {
              ws.send(JSON.stringify({ id: '1', type: 'subscribe', payload: { query: Q } }));
              resolve();
            } else if (m.type === 'error') {
              subscribeErrors++;
              if (subscribeErrors === 1) console.error('subscription refused:', JSON.stringify(m).slice(0, 300));
            } else if (m.type === 'next') {
              const u = m.payload!.data!.locationUpdated;
              if (u.session.tenant.id !== t.id || (user.role === 'MEMBER' && u.session.user.id !== user.userId))
                crossTenant++;
              delivered++;
              const k = keyOf(u.session.id, u.point.recordedAt);
              let arr = recvAt.get(k);
              if (!arr) recvAt.set(k, (arr = []));
              arr.push(now);
            }
          });
        }),
      );
    }
  const openTimer = setTimeout(() => console.error('still opening sockets after 60 s'), 60_000);
  await Promise.all(opened);
  clearTimeout(openTimer);
  console.log('subscribers connected');
  for (let i = 0; i < 200; i++) {
    if ((await stack.sample()).subscriptions >= TENANTS * SUBSCRIBERS_PER_TENANT) break;
    await new Promise((r) => setTimeout(r, 100));
  }
  const after = await stack.sample();
  if (after.subscriptions < TENANTS * SUBSCRIBERS_PER_TENANT || subscribeErrors > 0)
    throw new Error(
      `only ${after.subscriptions} of ${TENANTS * SUBSCRIBERS_PER_TENANT} subscriptions live (${subscribeErrors} refused)`,
    );
  const perSub = (a: number, b: number) => ((a - b) / (TENANTS * SUBSCRIBERS_PER_TENANT) / 1024).toFixed(1);
  const memory =
    `router memory per subscription ` +
    (after.heapUsed !== null && before.heapUsed !== null
      ? `${perSub(after.heapUsed, before.heapUsed)} KiB heap, `
      : '') +
    `${perSub(after.rss, before.rss)} KiB RSS`;
  console.log('(3)', memory);

  for (const ppr of POINTS_PER_REQUEST) {
    // Fresh sessions per variant: DEVICES devices spread over the two members of each tenant
    // (one session each), requests round-robin over them.
    const perMember = Math.max(1, Math.round(DEVICES / (TENANTS * 2)));
    const devices = await Promise.all(
      tenants.flatMap((t) =>
        t.members.flatMap((u) =>
          Array.from({ length: perMember }, async () => ({ u, s: await startSession(u), last: Date.now() })),
        ),
      ),
    );
    recvAt.clear();
    delivered = 0;
    /** Response time per point key; every point is expected by 90 subscribers (80 admin + 10 owner). */
    const respAt = new Map<string, number>();
    /** Send time per point key: with live events served from their payload, deliveries can beat the response. */
    const sentAt = new Map<string, number>();
    const reqLat: number[] = [];
    const tickMs = 50;
    const requestsPerSec = RATE / ppr;
    const ticks = (FANOUT_SECONDS * 1000) / tickMs;
    const inflight: Promise<void>[] = [];
    let d = 0;
    let owed = 0;
    let failed = 0;
    const xact0 = await transactions();
    const cpu0 = { server: (await stack.sample()).cpu, client: process.cpuUsage() };
    const t0 = performance.now();
    for (let k = 0; k < ticks; k++) {
      owed += (requestsPerSec * tickMs) / 1000;
      for (; owed >= 1; owed--) {
        const dev = devices[d++ % devices.length]!;
        // recordedAt strictly increasing per session (it is the retry key), never in the future.
        const at = Array.from({ length: ppr }, () =>
          new Date((dev.last = Math.max(dev.last + 1, Date.now() - 2 * ppr))).toISOString(),
        );
        const s0 = performance.now();
        for (const a of at) sentAt.set(keyOf(dev.s, a), s0);
        const req =
          ppr === 1
            ? gql(dev.u, RECORD, { s: dev.s, l: { latitude: 3, longitude: 4, recordedAt: at[0] } })
            : gql(dev.u, BATCH, { s: dev.s, l: at.map((recordedAt) => ({ latitude: 3, longitude: 4, recordedAt })) });
        inflight.push(
          req.then(
            () => {
              const now = performance.now();
              reqLat.push(now - s0);
              for (const a of at) respAt.set(keyOf(dev.s, a), now);
            },
            // Under saturation a request can fail (e.g. a transaction timing out): counted, not fatal.
            (err: unknown) => {
              failed++;
              if (failed === 1) console.error('first failed request:', String(err).slice(0, 300));
            },
          ),
        );
      }
      const wait = t0 + (k + 1) * tickMs - performance.now();
      if (wait > 0) await new Promise((r) => setTimeout(r, wait));
    }
    await Promise.all(inflight);
    const sentRate = respAt.size / ((performance.now() - t0) / 1000);
    const expected = respAt.size * 90;
    for (let i = 0; i < 300 && delivered < expected; i++) await new Promise((r) => setTimeout(r, 100));
    // CPU share of one core over the run, per stack process (Postgres/Redis not counted).
    const wall = (performance.now() - t0) * 1000;
    // Postgres transactions in the bench database: the mutations plus one per live re-read
    // (liveLocationUpdates runs as one withTenant transaction per gateway execution).
    const txPerSec = (((await transactions()) - xact0) / (wall / 1e6)).toFixed(0);
    const c = process.cpuUsage(cpu0.client);
    const cpuNow = (await stack.sample()).cpu;
    const share = (us: number) => `${((us / wall) * 100).toFixed(0)} %`;
    const cpu =
      Object.entries(cpuNow)
        .map(([name, us]) => `${name} ${share(us - (cpu0.server[name] ?? 0))}`)
        .join(', ') + ` of a core; bench client ${share(c.user + c.system)}`;
    const lat: number[] = [];
    const fromSend: number[] = [];
    for (const k of respAt.keys()) for (const r of recvAt.get(k) ?? []) fromSend.push(r - sentAt.get(k)!);
    let early = 0;
    for (const [k, at] of respAt)
      for (const r of recvAt.get(k) ?? []) {
        if (r < at) early++;
        lat.push(Math.max(0, r - at));
      }
    const name = ppr === 1 ? 'fanout (recordLocation)' : `fanout (recordLocations x${ppr})`;
    results[name] =
      `${TENANTS * SUBSCRIBERS_PER_TENANT} subscribers / ${TENANTS} tenants, ${devices.length} devices, ${respAt.size} points (~${sentRate.toFixed(0)}/s, ${ppr} per request, ` +
      `request p50 ${pct(reqLat, 50).toFixed(1)} ms p99 ${pct(reqLat, 99).toFixed(1)} ms): ` +
      `delivered ${delivered}/${expected}; latency from mutation response p50 ${pct(lat, 50).toFixed(1)} ms, p99 ${pct(lat, 99).toFixed(1)} ms ` +
      `(${early} deliveries arrived before the response, counted as 0); ` +
      `latency from mutation sent p50 ${pct(fromSend, 50).toFixed(1)} ms, p99 ${pct(fromSend, 99).toFixed(1)} ms; failed requests ${failed}; cross-tenant deliveries ${crossTenant}; ` +
      `sockets closed by the router ${[...closedBy].map(([k, n]) => `${n}× ${k}`).join(', ') || 'none'}; ` +
      `CPU: ${cpu}; Postgres ${txPerSec} transactions/s (${(respAt.size / ppr / (wall / 1e6)).toFixed(0)} mutations/s)`;
    console.log('(3)', results[name]);
  }
  results['fanout memory'] = memory;
  const closedDuringRun = [...closedBy.values()].reduce((a, b) => a + b, 0);
  for (const ws of sockets) ws.close();
  if (closedDuringRun !== 0) process.exitCode = 1;
  if (crossTenant !== 0) process.exitCode = 1;
}

console.log('\nSummary');
for (const [k, v] of Object.entries(results)) console.log(`- ${k}: ${v}`);
await stack.stop();
await db.$disconnect();
