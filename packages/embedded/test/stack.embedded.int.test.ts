/**
 * Smoke test of what `npm start` will run with nothing installed: the router and the four
 * subgraphs on the embedded Postgres and the embedded cognito-local (no Redis, no Kafka).
 * Log in through the API, record a point, read it back; another tenant gets NOT_FOUND.
 */
import { randomBytes } from 'node:crypto';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { withTenant } from '@lt/db';
import { startEmbeddedCognito, startEmbeddedPostgres, type EmbeddedCognito, type EmbeddedPostgres } from '@lt/embedded';
import { createLogger } from '@lt/logger';
import { startStack, type Stack } from '@lt/stack';
import { Cognito } from '@lt/subgraph-auth/cognito';
import { createTestTenant, uniqueName } from '@lt/testing';
import { codes, gql } from '../../../e2e/support/graphql';

const dataDir = mkdtempSync(join(tmpdir(), 'lt-embedded-stack-'));
let pg: EmbeddedPostgres;
let cognito: EmbeddedCognito;
let stack: Stack;
let readyMs = 0;

beforeAll(async () => {
  const t0 = performance.now();
  [pg, cognito] = await Promise.all([
    startEmbeddedPostgres({ dataDir: join(dataDir, 'postgres') }),
    startEmbeddedCognito({ dataDir: join(dataDir, 'cognito'), port: 0 }),
  ]);
  stack = await startStack({
    databaseUrl: pg.appUrl,
    contextSecret: randomBytes(32).toString('hex'),
    log: createLogger({ level: 'silent' }),
    auth: {
      cognito: {
        endpoint: cognito.endpoint,
        userPoolId: cognito.userPoolId,
        clientId: cognito.clientId,
        issuer: cognito.issuer,
      },
    },
  });
  readyMs = performance.now() - t0;
});
afterAll(async () => {
  await stack?.stop();
  await cognito?.stop();
  await pg?.stop();
  rmSync(dataDir, { recursive: true, force: true });
});

async function member(tenantId: string): Promise<{ email: string; password: string }> {
  const client = new Cognito({
    endpoint: cognito.endpoint,
    userPoolId: cognito.userPoolId,
    clientId: cognito.clientId,
  });
  const email = `${uniqueName('emb').toLowerCase()}@example.test`;
  const password = `Pw1-${randomBytes(6).toString('hex')}A`;
  const sub = await client.signUp(email, password);
  await client.adminConfirmSignUp(sub);
  await withTenant(stack.db, tenantId, (tx) =>
    tx.user.create({ data: { cognitoSub: sub, email, tenantId, role: 'TENANT_ADMIN' } }),
  );
  return { email, password };
}

async function login(u: { email: string; password: string }): Promise<Record<string, string>> {
  const r = await gql<{ login: { accessToken: string } }>(
    stack.routerUrl,
    'mutation ($e: String!, $p: String!) { login(email: $e, password: $p) { accessToken } }',
    { e: u.email, p: u.password },
  );
  expect(r.errors).toBeUndefined();
  return { authorization: `Bearer ${r.data!.login.accessToken}` };
}

describe('the stack on embedded Postgres + Cognito', () => {
  it('logs in, records a point and reads it back; another tenant cannot reach the session', async () => {
    console.log(
      `embedded stack ready in ${Math.round(readyMs)} ms (postgres ${JSON.stringify(pg.timings)}, fresh data dirs)`,
    );
    const [a, b] = await Promise.all([createTestTenant(stack.db, 'emb-a'), createTestTenant(stack.db, 'emb-b')]);
    const alice = await login(await member(a.id));
    const bob = await login(await member(b.id));

    const me = await gql<{ me: { tenant: { id: string } } }>(
      stack.routerUrl,
      '{ me { email tenant { id } } }',
      {},
      alice,
    );
    expect(me.data?.me.tenant.id).toBe(a.id);

    const started = await gql<{ startLocationSession: { id: string } }>(
      stack.routerUrl,
      'mutation { startLocationSession(input: {}) { id } }',
      {},
      alice,
    );
    expect(started.errors).toBeUndefined();
    const sessionId = started.data!.startLocationSession.id;
    const recordedAt = new Date().toISOString();
    const point = await gql<{ recordLocation: { id: string } }>(
      stack.routerUrl,
      'mutation ($s: ID!, $l: LocationInput!) { recordLocation(sessionId: $s, location: $l) { id } }',
      { s: sessionId, l: { latitude: 52.5, longitude: 13.4, recordedAt } },
      alice,
    );
    expect(point.errors).toBeUndefined();

    const read = '{ locationSession(id: "ID") { id } }';
    const mine = await gql<{ locationSession: { id: string } }>(
      stack.routerUrl,
      read.replace('ID', sessionId),
      {},
      alice,
    );
    expect(mine.data?.locationSession.id).toBe(sessionId);
    const theirs = await gql(stack.routerUrl, read.replace('ID', sessionId), {}, bob);
    expect(codes(theirs)).toEqual(['NOT_FOUND']);
  });
});
