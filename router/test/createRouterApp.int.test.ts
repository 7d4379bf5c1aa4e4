/**
 * createRouterApp, the one factory every entry point builds the router with: from configuration and
 * connections it builds the identity path, the identity bus, the readiness checks and the metrics,
 * and its stop() releases what it opened and nothing of the caller's.
 */
import { randomUUID } from 'node:crypto';
import { readFileSync } from 'node:fs';
import { createServer } from 'node:http';
import { Redis } from 'ioredis';
import { afterAll, describe, expect, it } from 'vitest';
import { createDb } from '@lt/db';
import { createMemoryIdentityBus, openIdentityBus, type IdentityEvent } from '@lt/identity';
import { createLogger } from '@lt/logger';
import { createMemoryPubSub } from '@lt/pubsub';
import { Cleanup, codes, gql, listenOnFreePort, testEnv } from '@lt/testing';
import { createRouterApp } from '../src/createRouterApp';

const supergraphSdl = readFileSync(new URL('../supergraph.graphql', import.meta.url), 'utf8');
const log = createLogger({ level: 'silent' });
const cleanup = new Cleanup();
afterAll(() => cleanup.run());

/** One server standing in for the four subgraphs' /healthz (no operation here reaches them). */
async function healthySubgraphs(): Promise<Record<string, string>> {
  const server = createServer((_req, res) => void res.end('{"status":"ok"}'));
  const port = await listenOnFreePort(server);
  cleanup.add(() => new Promise((resolve) => server.close(resolve)));
  cleanup.add(() => server.closeAllConnections());
  const url = `http://127.0.0.1:${port}/graphql`;
  return { auth: url, tenant: url, location: url, streaming: url };
}

const base = (port: number) => `http://127.0.0.1:${port}`;

describe('createRouterApp', () => {
  it('with Cognito, Postgres and Redis: builds the identity path, its checks and metrics, and an identity bus on Redis', async () => {
    const env = testEnv();
    const db = createDb({ url: env.databaseUrl });
    cleanup.add(() => db.$disconnect());
    // Connected before /readyz, whose checks each have 2 s (a cold first connection can take longer).
    await db.$queryRaw`SELECT 1`;
    // The bus's SUBSCRIBE connection is a duplicate and keeps this name: the test counts its own.
    const name = `router-app-${randomUUID()}`;
    const redis = new Redis(env.redisUrl, { connectionName: name, maxRetriesPerRequest: 1, connectTimeout: 2_000 });
    cleanup.add(() => redis.disconnect());
    const named = async () =>
      String(await redis.client('LIST'))
        .split('\n')
        .filter((line) => line.includes(` name=${name} `)).length;

    const app = await createRouterApp({
      supergraphSdl,
      subgraphUrls: await healthySubgraphs(),
      contextSecret: env.contextSecret,
      log,
      pubsub: createMemoryPubSub(),
      db,
      redis,
      cognito: { endpoint: env.cognitoEndpoint, userPoolId: env.cognitoUserPoolId, clientId: env.cognitoClientId },
    });
    let stopped = false;
    cleanup.add(() => (stopped ? undefined : app.stop()));
    expect(app.identity).toBeDefined();
    expect(await named()).toBe(2);
    const port = await app.start(0, '127.0.0.1');

    const ready = await fetch(`${base(port)}/readyz`);
    expect(ready.status).toBe(200);
    const checked = ['supergraph', 'postgres', 'redis', 'cognito'].concat(
      ['auth', 'tenant', 'location', 'streaming'].map((name) => `subgraph:${name}`),
    );
    expect(await ready.json()).toEqual({
      status: 'ready',
      checks: Object.fromEntries(checked.map((name) => [name, 'ok'])),
    });

    // Callers go through the Cognito path: a forged token is refused and counted by reason.
    const forged = await gql(`${base(port)}/graphql`, '{ __typename }', {}, { authorization: 'Bearer not-a-jwt' });
    expect(codes(forged)).toEqual(['UNAUTHENTICATED']);
    const metrics = await (await fetch(`${base(port)}/metrics`)).text();
    expect(metrics).toMatch(/router_auth_failures_total\{reason="[a-z_]+"\} 1/);
    expect(metrics).toMatch(/router_membership_cache_hit_ratio /);
    expect(metrics).toMatch(/router_ws_connections 0/);

    // The bus it opened is the Redis one: an event another process publishes reaches it.
    const other = await openIdentityBus({ redis });
    cleanup.add(() => other.close());
    const sub = `sub-${randomUUID()}`;
    const heard = new Promise<IdentityEvent>((resolve) => {
      const off = app.identityBus.subscribe((e) => {
        if (e.type === 'user.signed_out' && e.sub === sub) {
          off();
          resolve(e);
        }
      });
    });
    await other.publish({ type: 'user.signed_out', sub, before: 1 });
    expect(await heard).toEqual({ type: 'user.signed_out', sub, before: 1 });
    await other.close();

    // stop() closes the SUBSCRIBE connection it opened; the caller's Redis stays usable.
    await app.stop();
    stopped = true;
    await expect.poll(named).toBe(1);
    expect(await redis.ping()).toBe('PONG');
  });

  it('without Cognito: anonymous callers, only the subgraph checks, no dashboard when told so; watches the bus it is given', async () => {
    const bus = createMemoryIdentityBus();
    const app = await createRouterApp({
      supergraphSdl,
      subgraphUrls: await healthySubgraphs(),
      contextSecret: testEnv().contextSecret,
      log,
      pubsub: createMemoryPubSub(),
      identityBus: bus,
      dashboard: false,
    });
    cleanup.add(() => app.stop());
    expect(app.identity).toBeUndefined();
    expect(app.identityBus).toBe(bus);
    const port = await app.start(0, '127.0.0.1');
    const ready = (await (await fetch(`${base(port)}/readyz`)).json()) as { checks: Record<string, string> };
    expect(Object.keys(ready.checks).sort()).toEqual([
      'subgraph:auth',
      'subgraph:location',
      'subgraph:streaming',
      'subgraph:tenant',
      'supergraph',
    ]);
    // Anonymous: the header is not checked, public fields answer.
    const r = await gql(`${base(port)}/graphql`, '{ __typename }', {}, { authorization: 'Bearer not-a-jwt' });
    expect(r.data).toEqual({ __typename: 'Query' });
    expect((await fetch(`${base(port)}/dashboard`)).status).toBe(404);
  });

  it('refuses Cognito without a database (memberships are resolved in Postgres)', async () => {
    const env = testEnv();
    await expect(
      createRouterApp({
        supergraphSdl,
        contextSecret: env.contextSecret,
        log,
        pubsub: createMemoryPubSub(),
        cognito: { endpoint: env.cognitoEndpoint, userPoolId: env.cognitoUserPoolId, clientId: env.cognitoClientId },
      }),
    ).rejects.toThrow(/cognito needs db/);
  });
});
