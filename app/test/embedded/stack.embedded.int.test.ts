/**
 * Smoke test of what `npm start` will run with nothing installed: the router and the four
 * subgraphs on the embedded Postgres and the embedded cognito-local (no Redis, no Kafka).
 * Log in through the API, record a point, read it back; another tenant gets NOT_FOUND.
 */
import { createPrivateKey, randomBytes, sign } from 'node:crypto';
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { createRequire } from 'node:module';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { withTenant } from '@lt/db';
import { startEmbeddedCognito, startEmbeddedPostgres, type EmbeddedCognito, type EmbeddedPostgres } from '@lt/embedded';
import { createLogger } from '@lt/logger';
import { startStack, type Stack } from '@lt/app';
import { Cognito } from '@lt/subgraph-auth/cognito';
import { codes, createTestTenant, gql, uniqueName } from '@lt/testing';

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

/** A JWT signed with cognito-local's bundled private key (public in node_modules). */
function mintWithBundledKey(claims: Record<string, unknown>, kid: string): string {
  const bundled = createRequire(import.meta.url).resolve('cognito-local/lib/keys/cognitoLocal.private.json');
  const { pem } = JSON.parse(readFileSync(bundled, 'utf8')) as { pem: string };
  const b64 = (v: unknown) => Buffer.from(JSON.stringify(v)).toString('base64url');
  const input = `${b64({ alg: 'RS256', typ: 'JWT', kid })}.${b64(claims)}`;
  return `${input}.${sign('sha256', Buffer.from(input), createPrivateKey(pem)).toString('base64url')}`;
}

describe('the embedded Cognito signing key', () => {
  it("is the data directory's own: a token minted with cognito-local's bundled key is refused", async () => {
    const tenant = await createTestTenant(stack.db, 'emb-key');
    const genuine = await login(await member(tenant.id));
    const token = genuine['authorization']!.slice('Bearer '.length);
    const [header, payload] = token
      .split('.')
      .slice(0, 2)
      .map((part) => JSON.parse(Buffer.from(part, 'base64url').toString()));
    expect(header.kid).toBe(cognito.keyId);
    expect(codes(await gql(stack.routerUrl, '{ me { id } }', {}, genuine))).toEqual([]);

    // The same claims (a real user, the right issuer and client, not expired), signed with the
    // bundled key: under cognito-local's own kid and under this directory's kid.
    for (const kid of ['CognitoLocal', cognito.keyId]) {
      const forged = mintWithBundledKey(payload as Record<string, unknown>, kid);
      const r = await gql(stack.routerUrl, '{ me { id } }', {}, { authorization: `Bearer ${forged}` });
      expect(codes(r)).toEqual(['UNAUTHENTICATED']);
    }
    // The JWKS publishes this directory's key only.
    const jwks = (await (await fetch(`${cognito.issuer}/.well-known/jwks.json`)).json()) as { keys: { kid: string }[] };
    expect(jwks.keys.map((k) => k.kid)).toEqual([cognito.keyId]);
  });
});
