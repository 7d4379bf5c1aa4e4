// Gateway benchmark: our router vs a bare @apollo/gateway vs Hive Gateway, with the location
// subgraph alone as the floor, on the same four subgraphs (separate processes), the same seeded
// tenant (4 users, 20 sessions), real Postgres, Redis and cognito-local. Targets run interleaved,
// round after round, so each figure has its comparison measured under the same machine load.
//
//   npx tsx bench/gateway/gateway.bench.ts
//   BENCH_ROUNDS=5 BENCH_SECONDS=10 BENCH_BASELINE=<git ref> npx tsx bench/gateway/gateway.bench.ts
//
// See bench/gateway/README.md for the knobs and how to read the output.
import { spawn, type ChildProcess } from 'node:child_process';
import { randomBytes, randomUUID } from 'node:crypto';
import { readFileSync, writeFileSync, mkdirSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import autocannon from 'autocannon';
import pg from 'pg';
import { CONTEXT_HEADER, signContext, type Membership } from '@lt/context';
import { createDb, setupDatabase, withPlatform, withTenant, MIGRATIONS_DIR } from '@lt/db';
import { Cognito } from '@lt/subgraph-auth/cognito';
import { freePort } from '@lt/testing';
import { gatewaySupergraph } from '@lt/router';
import { buildRouter } from './build';

const root = fileURLToPath(new URL('../../', import.meta.url));
const ROUNDS = Number(process.env['BENCH_ROUNDS'] ?? 3);
const SECONDS = Number(process.env['BENCH_SECONDS'] ?? 10);
const CONCURRENCY = (process.env['BENCH_CONCURRENCY'] ?? '1,32').split(',').map(Number);
const SCENARIOS = (process.env['BENCH_SCENARIOS'] ?? 'query,mutation').split(',');
const ONLY = process.env['BENCH_TARGETS']?.split(',');
// A git ref whose router is measured too, as "router@<ref>" (before/after in one run).
const BASELINE = process.env['BENCH_BASELINE'];
// tsx instead of the compiled bundle for our router.
const USE_TSX = process.env['BENCH_TSX'] === '1';
// Directory: a V8 CPU profile of every gateway process (written when it stops).
const CPU_PROF = process.env['BENCH_CPU_PROF'];
const DATABASE = process.env['BENCH_DATABASE'] ?? 'lt_bench_gateway';
const tag = `gbench-${Date.now().toString(36)}`;
const cognitoOpts = {
  endpoint: process.env['COGNITO_ENDPOINT'] ?? 'http://127.0.0.1:9229',
  userPoolId: process.env['COGNITO_USER_POOL_ID'] ?? 'local_supergraph',
  clientId: process.env['COGNITO_CLIENT_ID'] ?? 'supergraphlocalclient',
};
const adminUrl = process.env['ADMIN_DATABASE_URL'] ?? 'postgresql://postgres@127.0.0.1:5432/postgres';
const redisUrl = process.env['REDIS_URL'] ?? 'redis://127.0.0.1:6379';

const QUERY =
  '{ locationSessions(first: 20) { edges { node { id deviceId pointCount user { email } tenant { name } } } } }';
// The floor: what the location subgraph alone can answer of the same query (entity keys only).
const FLOOR_QUERY =
  '{ locationSessions(first: 20) { edges { node { id deviceId pointCount user { id } tenant { id } } } } }';
const MUTATION =
  'mutation Record($s: ID!, $l: LocationInput!) { recordLocation(sessionId: $s, location: $l) { id latitude recordedAt } }';

// ── database, tenant, users, sessions ──
const urls = await setupDatabase({
  adminUrl,
  database: DATABASE,
  ownerPassword: process.env['DB_OWNER_PASSWORD'] ?? 'lt_owner_dev',
  appPassword: process.env['DB_APP_PASSWORD'] ?? 'lt_app_dev',
  migrationsDir: MIGRATIONS_DIR,
});
const db = createDb({ url: urls.appUrl, max: 2 });
const cognito = new Cognito(cognitoOpts);
console.log(`seeding ${DATABASE}: 1 tenant, 4 users, 20 sessions…`);
const tenant = await withPlatform(db, (tx) => tx.tenant.create({ data: { name: `Bench ${tag}`, slug: tag } }));
const started = new Date(Date.now() - 24 * 3600_000);
const users: { id: string; sub: string; role: 'TENANT_ADMIN' | 'MEMBER'; email: string }[] = [];
for (let i = 0; i < 4; i++) {
  const email = `${tag}-${i}@example.test`;
  const sub = await cognito.signUp(email, 'Passw0rd-bench');
  await cognito.adminConfirmSignUp(sub);
  const role = i === 0 ? 'TENANT_ADMIN' : 'MEMBER';
  const row = await withTenant(db, tenant.id, (tx) =>
    tx.user.create({ data: { cognitoSub: sub, email, tenantId: tenant.id, role }, select: { id: true } }),
  );
  users.push({ id: row.id, sub, role, email });
}
const sessions: string[] = [];
for (let i = 0; i < 20; i++) {
  const user = users[i % 4]!;
  const s = await withTenant(db, tenant.id, (tx) =>
    tx.locationSession.create({
      data: { tenantId: tenant.id, userId: user.id, deviceId: `van-${i}`, startedAt: started },
      select: { id: true },
    }),
  );
  sessions.push(s.id);
}
await db.$disconnect();
const admin = users[0]!;
// The caller: the tenant admin (sees all 20 sessions). Our router gets its Cognito access token;
// the peers and the floor get a context signed once for the whole run (no per-request identity).
const { accessToken } = await cognito.passwordAuth(admin.email, 'Passw0rd-bench');
const secret = randomBytes(24).toString('hex');
const membership: Membership = {
  userId: admin.id,
  sub: admin.sub,
  tenantId: tenant.id,
  role: 'TENANT_ADMIN',
  tenantStatus: 'ACTIVE',
};
const presigned = signContext(
  { membership, requestId: randomUUID(), tokenId: null, tokenExpiresAt: null, clientAddress: null },
  { secret, ttlSeconds: 24 * 3600 },
);
// The admin's sessions receive the mutations (each request a new point, one millisecond later).
const adminSessions = sessions.filter((_, i) => i % 4 === 0);
let pointSeq = 0;

// ── processes ──
const children: { name: string; child: ChildProcess }[] = [];
process.once('exit', () => {
  for (const { child } of children) if (child.exitCode === null) child.kill('SIGKILL');
});
const common: NodeJS.ProcessEnv = {
  PATH: process.env['PATH'],
  HOME: process.env['HOME'],
  NODE_ENV: 'development',
  LOG_LEVEL: 'warn',
  HOST: '127.0.0.1',
  ROUTER_CONTEXT_SECRET: secret,
  DATABASE_URL: urls.appUrl,
  REDIS_URL: redisUrl,
  COGNITO_ENDPOINT: cognitoOpts.endpoint,
  COGNITO_USER_POOL_ID: cognitoOpts.userPoolId,
  COGNITO_CLIENT_ID: cognitoOpts.clientId,
  AWS_ACCESS_KEY_ID: 'local',
  AWS_SECRET_ACCESS_KEY: 'local',
  AWS_REGION: 'us-east-1',
  STREAMING_SECRET_KEY: randomBytes(32).toString('base64'),
  STREAMING_RELAY: 'false',
};
function start(name: string, args: string[], env: NodeJS.ProcessEnv, profile = false): ChildProcess {
  const flags =
    profile && CPU_PROF ? ['--cpu-prof', `--cpu-prof-dir=${CPU_PROF}`, `--cpu-prof-name=${name}.cpuprofile`] : [];
  const child = spawn(process.execPath, [...flags, ...args], {
    cwd: root,
    env: { ...common, ...env },
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  const show = (chunk: Buffer) => {
    for (const line of String(chunk).split('\n'))
      if (line.trim() && !/NodeVersionSupportWarning|node >=22|a\.co\/|trace-warnings|ExperimentalWarning/.test(line))
        console.error(`[${name}] ${line.slice(0, 300)}`);
  };
  child.stdout!.on('data', show);
  child.stderr!.on('data', show);
  children.push({ name, child });
  return child;
}
async function waitReady(url: string, child: ChildProcess, name: string, init?: RequestInit): Promise<void> {
  for (let i = 0; i < 300; i++) {
    if (child.exitCode !== null) throw new Error(`${name} exited with ${child.exitCode}`);
    try {
      const res = await fetch(url, { ...init, signal: AbortSignal.timeout(1_000) });
      if (res.ok) return;
    } catch {
      // not up yet
    }
    await new Promise((r) => setTimeout(r, 200));
  }
  throw new Error(`${name} not ready (${url})`);
}

const subgraphUrls: Record<string, string> = {};
await Promise.all(
  (['auth', 'tenant', 'location', 'streaming'] as const).map(async (name) => {
    const port = await freePort();
    const child = start(name, ['--import', 'tsx', `subgraphs/${name}/src/index.ts`], { PORT: String(port) });
    subgraphUrls[name] = `http://127.0.0.1:${port}/graphql`;
    await waitReady(`http://127.0.0.1:${port}/healthz`, child, name);
  }),
);
// The peers get the supergraph with the subgraphs' bench URLs.
let sdl = gatewaySupergraph(readFileSync(`${root}router/supergraph.graphql`, 'utf8'));
for (const [name, url] of Object.entries(subgraphUrls))
  sdl = sdl.replace(new RegExp(`(join__graph\\(name: "${name}", url: )"[^"]*"`), `$1"${url}"`);
mkdirSync(`${root}bench/gateway/.build`, { recursive: true });
const supergraphFile = `${root}bench/gateway/.build/supergraph.graphql`;
writeFileSync(supergraphFile, sdl);

interface Target {
  name: string;
  url: string;
  headers: Record<string, string>;
  query: string;
}
const targets: Target[] = [];
const want = (name: string) => !ONLY || ONLY.some((o) => name.startsWith(o));
const bearer = { authorization: `Bearer ${accessToken}` };
const routerEnv = (port: number) => ({
  PORT: String(port),
  AUTH_URL: subgraphUrls['auth'],
  TENANT_URL: subgraphUrls['tenant'],
  LOCATION_URL: subgraphUrls['location'],
  STREAMING_URL: subgraphUrls['streaming'],
  SUPERGRAPH_PATH: `${root}router/supergraph.graphql`,
});
async function startRouter(name: string, entry: string[]): Promise<void> {
  const port = await freePort();
  const child = start(name, entry, routerEnv(port), true);
  await waitReady(`http://127.0.0.1:${port}/readyz`, child, name);
  targets.push({ name, url: `http://127.0.0.1:${port}/graphql`, headers: bearer, query: QUERY });
}
if (want('router')) {
  await startRouter('router', USE_TSX ? ['--import', 'tsx', 'router/src/index.ts'] : [await buildRouter()]);
}
if (BASELINE && want('router@')) await startRouter(`router@${BASELINE}`, [await buildRouter(BASELINE)]);
const signedHeader = { [CONTEXT_HEADER]: presigned };
for (const [name, file] of [
  ['apollo-gateway', 'bench/gateway/bare.ts'],
  ['hive-gateway', 'bench/gateway/hive.ts'],
] as const) {
  if (!want(name)) continue;
  const port = await freePort();
  const child = start(
    name,
    ['--import', 'tsx', file],
    { PORT: '', BENCH_PORT: String(port), BENCH_SUPERGRAPH: supergraphFile },
    true,
  );
  const url = `http://127.0.0.1:${port}/graphql`;
  await waitReady(url, child, name, {
    method: 'POST',
    headers: { 'content-type': 'application/json', ...signedHeader },
    body: JSON.stringify({ query: '{ __typename }' }),
  });
  targets.push({ name, url, headers: signedHeader, query: QUERY });
}
if (want('location'))
  targets.push({
    name: 'location-subgraph',
    url: subgraphUrls['location']!,
    headers: signedHeader,
    query: FLOOR_QUERY,
  });

// ── measuring ──
const pgAdmin = new pg.Client({ connectionString: adminUrl });
await pgAdmin.connect();
async function commits(): Promise<number> {
  // Backends flush their statistics within a second of going idle.
  await new Promise((r) => setTimeout(r, 1_200));
  await pgAdmin.query('SELECT pg_stat_clear_snapshot()');
  const r = await pgAdmin.query<{ n: string }>(
    'SELECT xact_commit + xact_rollback AS n FROM pg_stat_database WHERE datname = $1',
    [DATABASE],
  );
  return Number(r.rows[0]!.n);
}
async function post(t: Target, query: string): Promise<string> {
  const res = await fetch(t.url, {
    method: 'POST',
    headers: { 'content-type': 'application/json', ...t.headers },
    body: JSON.stringify({ query }),
  });
  return res.text();
}

// Background transactions per second (streaming's pollers etc.), subtracted from each run.
const idle0 = await commits();
const idleStart = Date.now();
await new Promise((r) => setTimeout(r, 3_000));
const idlePerMs = ((await commits()) - idle0) / (Date.now() - idleStart);

interface Run {
  rps: number;
  p50: number;
  p99: number;
  errors: number;
  requests: number;
  tx: number;
}
const results = new Map<string, Run[]>();
function mutationBody(): string {
  const s = adminSessions[pointSeq % adminSessions.length]!;
  const at = new Date(started.getTime() + 1_000 + pointSeq++);
  return JSON.stringify({
    query: MUTATION,
    variables: { s, l: { latitude: 52.52, longitude: 13.405, recordedAt: at.toISOString() } },
  });
}
async function measure(t: Target, scenario: string, connections: number, expected: string): Promise<Run> {
  const before = await commits();
  const t0 = Date.now();
  const isQuery = scenario === 'query';
  const options: autocannon.Options = {
    url: t.url,
    method: 'POST',
    connections,
    duration: SECONDS,
    headers: { 'content-type': 'application/json', ...t.headers },
    ...(isQuery
      ? { body: JSON.stringify({ query: t.query }), expectBody: expected }
      : {
          requests: [{ setupRequest: (req) => ({ ...req, body: mutationBody() }) }],
          verifyBody: (body: string) => body.startsWith('{"data":{"recordLocation":{"id"'),
        }),
  } as autocannon.Options;
  const result = await autocannon(options);
  const tx = (await commits()) - before - idlePerMs * (Date.now() - t0);
  const requests = result.requests.total;
  // Requests written, including those still in flight when the run ended (their transactions count).
  const sent = (result.requests as { sent?: number }).sent ?? requests;
  return {
    rps: requests / SECONDS,
    p50: result.latency.p50,
    p99: result.latency.p99,
    errors: result.errors + result.non2xx + result.mismatches,
    requests,
    tx: sent > 0 ? Math.max(0, tx) / sent : 0,
  };
}

console.log(
  `targets: ${targets.map((t) => t.name).join(', ')}; ${ROUNDS} rounds × ${SCENARIOS.join('/')} × ${CONCURRENCY.join('/')} clients × ${SECONDS} s`,
);
for (let round = 1; round <= ROUNDS; round++) {
  // Once per round: every gateway gives the same bytes for the query.
  const bodies = new Map<string, string>();
  for (const t of targets) bodies.set(t.name, await post(t, t.query));
  const gateways = targets.filter((t) => t.query === QUERY);
  // Apollo Server ends its JSON with a newline, Hive Gateway does not: compared without it.
  const json = (t: Target) => bodies.get(t.name)!.replace(/\n$/, '');
  const reference = json(gateways[0]!);
  if (reference.includes('"errors"') || !reference.includes('"email"'))
    throw new Error(`bad response: ${reference.slice(0, 300)}`);
  for (const t of gateways) {
    const body = json(t);
    if (body === reference) continue;
    let i = 0;
    while (i < body.length && body[i] === reference[i]) i++;
    throw new Error(
      `${t.name} differs from ${gateways[0]!.name} at byte ${i}: ${JSON.stringify(body.slice(i - 40, i + 80))} vs ${JSON.stringify(reference.slice(i - 40, i + 80))}`,
    );
  }
  console.log(`round ${round}: ${gateways.length} gateways byte-identical (${reference.length} bytes)`);
  // Rotate the order each round so no target always runs first or last.
  const order = targets.map((_, i) => targets[(i + round - 1) % targets.length]!);
  for (const scenario of SCENARIOS)
    for (const c of CONCURRENCY)
      for (const t of order) {
        const run = await measure(t, scenario, c, bodies.get(t.name)!);
        const key = `${scenario}|${c}|${t.name}`;
        results.set(key, [...(results.get(key) ?? []), run]);
        console.log(
          `  ${scenario.padEnd(8)} c=${String(c).padEnd(2)} ${t.name.padEnd(20)} ${run.rps.toFixed(1).padStart(7)} req/s  p50 ${String(run.p50).padStart(5)} ms  p99 ${String(run.p99).padStart(5)} ms  errors ${run.errors}  tx/req ${run.tx.toFixed(2)}`,
        );
      }
}

const median = (xs: number[]): number => {
  const s = [...xs].sort((a, b) => a - b);
  const m = Math.floor(s.length / 2);
  return s.length % 2 ? s[m]! : (s[m - 1]! + s[m]!) / 2;
};
console.log(`\nmedians over ${ROUNDS} rounds (errors: total over all rounds)\n`);
console.log('| scenario | clients | target | req/s | p50 ms | p99 ms | errors | Postgres tx/request |');
console.log('|---|---|---|---|---|---|---|---|');
for (const scenario of SCENARIOS)
  for (const c of CONCURRENCY)
    for (const t of targets) {
      const runs = results.get(`${scenario}|${c}|${t.name}`) ?? [];
      console.log(
        `| ${scenario} | ${c} | ${t.name} | ${median(runs.map((r) => r.rps)).toFixed(1)} | ${median(runs.map((r) => r.p50))} | ${median(runs.map((r) => r.p99))} | ${runs.reduce((a, r) => a + r.errors, 0)} | ${median(runs.map((r) => r.tx)).toFixed(2)} |`,
      );
    }

await pgAdmin.end();
await Promise.all(
  children.map(
    ({ child }) =>
      new Promise<void>((resolve) => {
        if (child.exitCode !== null || child.signalCode !== null) return resolve();
        const kill = setTimeout(() => child.kill('SIGKILL'), 10_000);
        child.once('exit', () => {
          clearTimeout(kill);
          resolve();
        });
        child.kill('SIGTERM');
      }),
  ),
);
process.exit(0);
