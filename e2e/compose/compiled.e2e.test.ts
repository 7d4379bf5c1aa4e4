/**
 * The deployed form: the router and the four subgraphs compiled to plain JavaScript (as
 * `npm run build` and the Docker image do), each run by `node` alone — no tsx — with environment
 * variables only, against the real Postgres, Redis and cognito-local. A request through the router
 * reaches three subgraphs; every process logs JSON lines (stdout is not a terminal) and serves
 * prom-client's process metrics.
 */
import { spawn, type ChildProcess } from 'node:child_process';
import { mkdirSync, mkdtempSync, rmSync } from 'node:fs';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createDb, type Db } from '@lt/db';
import { Cleanup, createTestTenant, freePort, testEnv, waitFor } from '@lt/testing';
import { buildAll } from '../../scripts/build';
import { gql } from '../support/graphql';
import { bearer, createUserWithToken } from '../support/identity';

const root = fileURLToPath(new URL('../..', import.meta.url));
const SERVICES = ['auth', 'tenant', 'location', 'streaming', 'router'] as const;
type Service = (typeof SERVICES)[number];
const cleanup = new Cleanup();
const output: Record<string, string> = {};
const ports = {} as Record<Service, number>;
let db: Db;

function run(name: Service, bundle: string, env: NodeJS.ProcessEnv): ChildProcess {
  output[name] = '';
  const child = spawn(process.execPath, ['--enable-source-maps', bundle], {
    cwd: root,
    env,
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  child.stdout!.on('data', (c: Buffer) => (output[name] += String(c)));
  child.stderr!.on('data', (c: Buffer) => (output[name] += String(c)));
  cleanup.add(async () => {
    if (child.exitCode !== null || child.signalCode !== null) return;
    const exited = new Promise((resolve) => child.once('exit', resolve));
    child.kill('SIGTERM');
    await exited;
  });
  return child;
}

async function healthy(name: Service, child: ChildProcess, path: string): Promise<void> {
  const exited = new Promise<never>((_, reject) =>
    child.once('exit', (code) => reject(new Error(`${name} exited with ${code}: ${output[name]}`))),
  );
  exited.catch(() => {});
  await Promise.race([
    exited,
    waitFor(async () => (await fetch(`http://127.0.0.1:${ports[name]}${path}`).catch(() => null))?.ok === true, {
      timeoutMs: 60_000,
      what: `${name} ${path}`,
    }),
  ]);
}

beforeAll(async () => {
  const env = testEnv();
  db = createDb({ url: env.databaseUrl, max: 2 });
  cleanup.add(() => db.$disconnect());
  // Inside the tree, as dist/ is: the bundles import third-party packages from node_modules.
  mkdirSync(join(root, 'dist'), { recursive: true });
  const out = mkdtempSync(join(root, 'dist', '.test-'));
  cleanup.add(() => rmSync(out, { recursive: true, force: true }));
  const bundles = await buildAll(out);
  const common: NodeJS.ProcessEnv = {
    PATH: process.env['PATH'],
    HOME: process.env['HOME'],
    NODE_ENV: 'test',
    LOG_LEVEL: 'info',
    HOST: '127.0.0.1',
    ROUTER_CONTEXT_SECRET: env.contextSecret,
    DATABASE_URL: env.databaseUrl,
    REDIS_URL: env.redisUrl,
    COGNITO_ENDPOINT: env.cognitoEndpoint,
    COGNITO_USER_POOL_ID: env.cognitoUserPoolId,
    COGNITO_CLIENT_ID: env.cognitoClientId,
    AWS_ACCESS_KEY_ID: 'local',
    AWS_SECRET_ACCESS_KEY: 'local',
    AWS_REGION: 'us-east-1',
    STREAMING_SECRET_KEY: Buffer.alloc(32, 7).toString('base64'),
    // Its relay is unscoped: in the shared test database it would take other tests' outbox rows.
    STREAMING_RELAY: 'false',
  };
  for (const name of SERVICES) ports[name] = await freePort();
  await Promise.all(
    (['auth', 'tenant', 'location', 'streaming'] as const).map((name) =>
      healthy(name, run(name, bundles[name]!, { ...common, PORT: String(ports[name]) }), '/healthz'),
    ),
  );
  const url = (name: Service) => `http://127.0.0.1:${ports[name]}/graphql`;
  const router = run('router', bundles['router']!, {
    ...common,
    PORT: String(ports.router),
    AUTH_URL: url('auth'),
    TENANT_URL: url('tenant'),
    LOCATION_URL: url('location'),
    STREAMING_URL: url('streaming'),
  });
  await healthy('router', router, '/readyz');
}, 150_000);
afterAll(() => cleanup.run());

describe('compiled services, run by node alone', () => {
  it('answer a query planned across three subgraphs and a mutation, through the router', async () => {
    const tenant = await createTestTenant(db, 'compiled');
    const user = await createUserWithToken({ db }, { tenantId: tenant.id, role: 'MEMBER' });
    const routerUrl = `http://127.0.0.1:${ports.router}/graphql`;
    const me = await gql<{ me: { email: string; tenant: { id: string } } }>(
      routerUrl,
      '{ me { email tenant { id } } }',
      {},
      bearer(user),
    );
    expect(me.errors).toBeUndefined();
    expect(me.data?.me).toEqual({ email: user.email, tenant: { id: tenant.id } });
    const started = await gql<{ startLocationSession: { deviceId: string } }>(
      routerUrl,
      'mutation { startLocationSession(input: { deviceId: "compiled-van" }) { deviceId } }',
      {},
      bearer(user),
    );
    expect(started.errors).toBeUndefined();
    expect(started.data?.startLocationSession).toEqual({ deviceId: 'compiled-van' });
  });

  it('log JSON lines and serve process metrics', async () => {
    for (const name of SERVICES) {
      const lines = output[name]!.split('\n').filter((l) => l.startsWith('{'));
      expect(lines.length, `${name} logged`).toBeGreaterThan(0);
      for (const line of lines) expect(JSON.parse(line)).toMatchObject({ level: expect.any(String), service: name });
      const metrics = await (await fetch(`http://127.0.0.1:${ports[name]}/metrics`)).text();
      expect(metrics, name).toMatch(/^nodejs_eventloop_lag_seconds /m);
    }
  });
});
