/** /healthz, /readyz and /metrics on the router. */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createLogger } from '@lt/logger';
import { startStack } from '@lt/app';
import { createTestTenant, testEnv, uniqueName, waitFor } from '@lt/testing';
import { LiveSocket } from '../location/liveSocket';
import { gql } from '../support/graphql';
import { bearer, createUserWithToken, startAuthedStack, type AuthedStack } from '../support/identity';

let stack: AuthedStack;
const base = () => stack.routerUrl.replace(/\/graphql$/, '');
const get = (path: string) => fetch(`${base()}${path}`, { signal: AbortSignal.timeout(5_000) });

beforeAll(async () => {
  stack = await startAuthedStack();
});
afterAll(async () => {
  await stack?.stop();
});

describe('ops endpoints', () => {
  it('/healthz answers', async () => {
    const res = await get('/healthz');
    expect(res.status).toBe(200);
    expect(await res.json()).toEqual({ status: 'ok' });
  });

  it('/readyz checks the supergraph, Postgres, Redis, Cognito and the subgraphs', async () => {
    const res = await get('/readyz');
    expect(res.status).toBe(200);
    expect(await res.json()).toEqual({
      status: 'ready',
      checks: {
        supergraph: 'ok',
        postgres: 'ok',
        cognito: 'ok',
        redis: 'ok',
        'subgraph:auth': 'ok',
        'subgraph:tenant': 'ok',
        'subgraph:location': 'ok',
        'subgraph:streaming': 'ok',
      },
    });
  });

  it('/metrics counts requests by operation, errors by code, auth failures by reason, cache hit ratio', async () => {
    const tenant = await createTestTenant(stack.db);
    const user = await createUserWithToken(stack, { tenantId: tenant.id, role: 'MEMBER' });
    for (let i = 0; i < 3; i++) await gql(stack.routerUrl, 'query Me { me { id } }', {}, bearer(user));
    await gql(stack.routerUrl, 'query Me { me { id } }', {}, { authorization: `Bearer ${user.accessToken}x` });
    await gql(stack.routerUrl, 'query Me { me { id } }');
    const text = await (await get('/metrics')).text();
    expect(text).toMatch(/router_requests_total\{operation="Me"\} [4-9]/);
    expect(text).toMatch(/router_request_duration_seconds_count\{operation="Me"\} \d+/);
    expect(text).toMatch(/router_errors_total\{code="UNAUTHORIZED_FIELD_OR_TYPE"\} [1-9]/);
    expect(text).toMatch(/router_auth_failures_total\{reason="bad_signature"\} [1-9]/);
    const ratio = Number(/router_membership_cache_hit_ratio ([\d.]+)/.exec(text)?.[1]);
    expect(ratio).toBeGreaterThan(0);
    expect(ratio).toBeLessThanOrEqual(1);
  });

  it("/metrics carries prom-client's process metrics next to the router's", async () => {
    const text = await (await get('/metrics')).text();
    expect(text).toMatch(/^router_requests_total\{/m);
    expect(text).toMatch(/^nodejs_eventloop_lag_seconds [\d.e-]+$/m);
    expect(text).toMatch(/^nodejs_heap_size_used_bytes \d+$/m);
    expect(text).toMatch(/^nodejs_active_handles_total \d+$/m);
    expect(text).toMatch(/^process_resident_memory_bytes \d+$/m);
    expect(text).toMatch(/^# TYPE nodejs_gc_duration_seconds histogram$/m);
  });

  it('/metrics shows the subscription engine: sockets, subscriptions, shared sources', async () => {
    const tenant = await createTestTenant(stack.db);
    const user = await createUserWithToken(stack, { tenantId: tenant.id, role: 'MEMBER' });
    const gauge = async (name: string) =>
      Number(new RegExp(`^${name} (\\d+)$`, 'm').exec(await (await get('/metrics')).text())?.[1]);
    const before = await gauge('router_subscriptions');
    const sockets = await Promise.all([
      LiveSocket.open(stack.routerUrl, bearer(user).authorization),
      LiveSocket.open(stack.routerUrl, bearer(user).authorization),
    ]);
    try {
      await Promise.all(sockets.map((w) => w.acked()));
      for (const w of sockets) w.subscribe('a', 'subscription { sessionEvents { type } }');
      await waitFor(async () => (await gauge('router_subscriptions')) === before + 2, { what: 'two subscriptions' });
      expect(await gauge('router_ws_connections')).toBeGreaterThanOrEqual(2);
      // Identical subscriptions in one scope: one upstream source.
      expect(await gauge('router_subscription_sources')).toBeGreaterThanOrEqual(1);
    } finally {
      await Promise.all(sockets.map((w) => w.close()));
    }
    await waitFor(async () => (await gauge('router_subscriptions')) === before, { what: 'subscriptions gone' });
  });
});

it('/readyz is 503 and names the dependency when Cognito is unreachable', async () => {
  const env = testEnv();
  const down = await startStack({
    databaseUrl: env.databaseUrl,
    contextSecret: env.contextSecret,
    log: createLogger({ level: 'silent' }),
    auth: {
      cognito: { endpoint: 'http://127.0.0.1:9', userPoolId: env.cognitoUserPoolId, clientId: env.cognitoClientId },
    },
  });
  try {
    const res = await fetch(down.routerUrl.replace(/\/graphql$/, '/readyz'), { signal: AbortSignal.timeout(5_000) });
    expect(res.status).toBe(503);
    const body = (await res.json()) as { checks: Record<string, string> };
    expect(body.checks['postgres']).toBe('ok');
    expect(body.checks['cognito']).not.toBe('ok');
  } finally {
    await down.stop();
  }
});

it('startStack bootstraps the platform admin from configuration, idempotently', async () => {
  const env = testEnv();
  const email = `${uniqueName('root').toLowerCase()}@example.test`;
  const auth = {
    cognito: { endpoint: env.cognitoEndpoint, userPoolId: env.cognitoUserPoolId, clientId: env.cognitoClientId },
    bootstrapAdmin: { email, password: 'Passw0rd-root' },
  };
  const opts = {
    databaseUrl: env.databaseUrl,
    contextSecret: env.contextSecret,
    log: createLogger({ level: 'silent' }),
    auth,
  };
  for (let start = 0; start < 2; start++) {
    const s = await startStack(opts);
    try {
      const login = await gql<{ login: { user: { role: string; tenant: null } } }>(
        s.routerUrl,
        'mutation($e: String!, $p: String!) { login(email: $e, password: $p) { user { role tenant { id } } } }',
        { e: email, p: 'Passw0rd-root' },
      );
      expect(login.errors).toBeUndefined();
      expect(login.data!.login.user).toEqual({ role: 'PLATFORM_ADMIN', tenant: null });
    } finally {
      await s.stop();
    }
  }
});
