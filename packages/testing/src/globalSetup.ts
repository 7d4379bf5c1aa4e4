/**
 * Vitest global setup for integration and e2e tests: checks that every real service answers
 * (a missing service FAILS the run, never skips it), creates + migrates the test database, and
 * exports the connection settings to the test workers through process.env.
 * Services are started by `scripts/services/up.sh` (npm test and .ci/run call it).
 */
import net from 'node:net';
import { Redis } from 'ioredis';
import { createHash } from 'node:crypto';
import { listMigrations, setupDatabase, MIGRATIONS_DIR } from '@lt/db';

const env = process.env;

function tcpReachable(host: string, port: number, timeoutMs = 2_000): Promise<boolean> {
  return new Promise((resolve) => {
    const socket = net.connect({ host, port });
    const done = (ok: boolean): void => {
      socket.destroy();
      resolve(ok);
    };
    socket.setTimeout(timeoutMs, () => done(false));
    socket.once('connect', () => done(true));
    socket.once('error', () => done(false));
  });
}

async function checkRedis(url: string): Promise<void> {
  const redis = new Redis(url, {
    lazyConnect: true,
    connectTimeout: 2_000,
    maxRetriesPerRequest: 0,
    retryStrategy: () => null,
  });
  try {
    await redis.connect();
    await redis.ping();
  } finally {
    redis.disconnect();
  }
}

export default async function setup(): Promise<void> {
  const adminUrl = env['ADMIN_DATABASE_URL'] ?? 'postgresql://postgres@127.0.0.1:5432/postgres';
  const redisUrl = env['REDIS_URL'] ?? 'redis://127.0.0.1:6379';
  const kafka = env['KAFKA_BROKERS'] ?? '127.0.0.1:9092';
  const cognito = env['COGNITO_ENDPOINT'] ?? 'http://127.0.0.1:9229';
  const fix = 'start them with: npm run services:up';

  const problems: string[] = [];
  await checkRedis(redisUrl).catch((e: unknown) => problems.push(`Redis at ${redisUrl}: ${String(e)}`));
  const [kHost, kPort] = kafka.split(',')[0]!.split(':');
  if (!(await tcpReachable(kHost!, Number(kPort)))) problems.push(`Kafka at ${kafka} is not reachable`);
  const c = new URL(cognito);
  if (!(await tcpReachable(c.hostname, Number(c.port || 80))))
    problems.push(`cognito-local at ${cognito} is not reachable`);

  // The test database is named after the migrations it holds: editing or adding a migration gets
  // a fresh database instead of a checksum mismatch (and parallel runs of different trees don't clash).
  const migrationsDir = MIGRATIONS_DIR;
  const fingerprint = createHash('sha256')
    .update(
      listMigrations(migrationsDir)
        .map((m) => `${m.name}:${m.checksum}`)
        .join('\n'),
    )
    .digest('hex')
    .slice(0, 12);
  let urls: { ownerUrl: string; appUrl: string } | undefined;
  try {
    urls = await setupDatabase({
      adminUrl,
      database: env['TEST_DATABASE_NAME'] ?? `lt_test_${fingerprint}`,
      ownerPassword: env['DB_OWNER_PASSWORD'] ?? 'lt_owner_dev',
      appPassword: env['DB_APP_PASSWORD'] ?? 'lt_app_dev',
      migrationsDir,
    });
  } catch (e) {
    problems.push(`Postgres at ${adminUrl}: ${e instanceof Error ? e.message : String(e)}`);
  }
  if (problems.length > 0 || !urls) {
    throw new Error(`Integration services missing (${fix}):\n  ${problems.join('\n  ')}`);
  }

  env['ADMIN_DATABASE_URL'] = adminUrl;
  env['DATABASE_URL'] = urls.appUrl;
  env['MIGRATION_DATABASE_URL'] = urls.ownerUrl;
  env['REDIS_URL'] = redisUrl;
  env['KAFKA_BROKERS'] = kafka;
  env['COGNITO_ENDPOINT'] = cognito;
  env['COGNITO_USER_POOL_ID'] ??= 'local_supergraph';
  env['COGNITO_CLIENT_ID'] ??= 'supergraphlocalclient';
  env['ROUTER_CONTEXT_SECRET'] ??= 'test-only-context-secret-0123456789abcdef';
  env['KAFKAJS_NO_PARTITIONER_WARNING'] = '1';
}
