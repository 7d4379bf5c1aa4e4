// Identity benchmark: the router's per-request cost of token verification + membership
// resolution with a warm cache, and the cache hit ratio. Real cognito-local tokens (RS256), real
// Redis and Postgres; its own database.
//
//   npx tsx bench/auth/identity.bench.ts                 # 50 users, 20k requests per scenario
//   BENCH_USERS=200 BENCH_REQUESTS=50000 npx tsx bench/auth/identity.bench.ts
//
// Scenarios: (1) the full authenticator, warm (in-process L1 + Redis), (2) the same with the
// in-process cache off, so every request pays a Redis round trip, (3) signature verification alone.
import { Redis } from 'ioredis';
import { createDb, setupDatabase, withPlatform, withTenant, MIGRATIONS_DIR } from '@lt/db';
import { createRedisIdentityBus } from '@lt/identity';
import { createIdentity } from '@lt/router/auth';
import { Cognito } from '@lt/subgraph-auth/cognito';

const USERS = Number(process.env['BENCH_USERS'] ?? 50);
const REQUESTS = Number(process.env['BENCH_REQUESTS'] ?? 20_000);
const endpoint = process.env['COGNITO_ENDPOINT'] ?? 'http://127.0.0.1:9229';
const userPoolId = process.env['COGNITO_USER_POOL_ID'] ?? 'local_supergraph';
const clientId = process.env['COGNITO_CLIENT_ID'] ?? 'supergraphlocalclient';
const tag = `bench-${Date.now().toString(36)}`;

const urls = await setupDatabase({
  adminUrl: process.env['ADMIN_DATABASE_URL'] ?? 'postgresql://postgres@127.0.0.1:5432/postgres',
  database: 'lt_bench_auth',
  ownerPassword: process.env['DB_OWNER_PASSWORD'] ?? 'lt_owner_dev',
  appPassword: process.env['DB_APP_PASSWORD'] ?? 'lt_app_dev',
  migrationsDir: MIGRATIONS_DIR,
});
const db = createDb({ url: urls.appUrl });
const redisUrl = process.env['REDIS_URL'] ?? 'redis://127.0.0.1:6379';
const redis = new Redis(redisUrl);
const subscriber = new Redis(redisUrl);
const bus = await createRedisIdentityBus({ redis, subscriber });

const tenant = await withPlatform(db, (tx) => tx.tenant.create({ data: { name: tag, slug: tag } }));
const cognito = new Cognito({ endpoint, userPoolId, clientId });
const headers: string[] = [];
for (let i = 0; i < USERS; i++) {
  const email = `${tag}-${i}@example.test`;
  const sub = await cognito.signUp(email, 'Passw0rd-bench');
  await cognito.adminConfirmSignUp(sub);
  await withTenant(db, tenant.id, (tx) =>
    tx.user.create({ data: { cognitoSub: sub, email, tenantId: tenant.id, role: i % 5 ? 'MEMBER' : 'TENANT_ADMIN' } }),
  );
  headers.push(`Bearer ${(await cognito.passwordAuth(email, 'Passw0rd-bench')).accessToken}`);
}

const pct = (xs: number[], p: number): number => xs[Math.min(xs.length - 1, Math.floor((p / 100) * xs.length))]!;
const fmt = (ms: number): string => `${(ms * 1000).toFixed(0)} µs`;

async function measure(name: string, run: (h: string) => Promise<unknown>): Promise<void> {
  for (const h of headers) await run(h); // warm
  const samples: number[] = [];
  for (let i = 0; i < REQUESTS; i++) {
    const h = headers[i % headers.length]!;
    const t0 = process.hrtime.bigint();
    await run(h);
    samples.push(Number(process.hrtime.bigint() - t0) / 1e6);
  }
  samples.sort((a, b) => a - b);
  console.log(`${name.padEnd(44)} p50 ${fmt(pct(samples, 50)).padStart(7)}  p99 ${fmt(pct(samples, 99)).padStart(7)}`);
}

const common = { db, cognito: { endpoint, userPoolId, clientId }, redis, watch: bus };
const warm = createIdentity(common);
const noL1 = createIdentity({ ...common, localTtlMs: 0 });
// Every request checks the RS256 signature (the verified-token cache off): the cost of a new token.
const uncached = createIdentity({ ...common, cognito: { ...common.cognito, verifiedCacheMs: 0 } });
console.log(`${USERS} users, ${REQUESTS} requests per scenario (Node ${process.version})`);
await measure('verify + membership (L1 + Redis, warm)', (h) => warm.authenticator.authenticate(h));
await measure('verify + membership (Redis only, warm)', (h) => noL1.authenticator.authenticate(h));
await measure('verify + membership, signature every time', (h) => uncached.authenticator.authenticate(h));
await measure('verify only (verified-token cache hit)', (h) => warm.verifier.verify(h.slice(7)));
await measure('verify only (RS256 + claims, no cache)', (h) => uncached.verifier.verify(h.slice(7)));
for (const [name, id] of [
  ['L1 + Redis', warm],
  ['Redis only', noL1],
] as const) {
  const s = id.memberships.stats;
  console.log(
    `hit ratio ${name.padEnd(11)} ${(id.memberships.hitRatio() * 100).toFixed(2)}%  (local ${s.localHits}, redis ${s.sharedHits}, postgres ${s.misses})`,
  );
}

await warm.stop();
await noL1.stop();
await uncached.stop();
await bus.close();
subscriber.disconnect();
redis.disconnect();
await db.$disconnect();
