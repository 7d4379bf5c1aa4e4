/**
 * A Cognito outage on a private cognito-local (in process, its own port and data directory): a
 * router started while the JWKS is unreachable answers valid tokens SERVICE_UNAVAILABLE (not
 * UNAUTHENTICATED) and works once Cognito is back; logins failed by the outage do not consume the
 * login rate limit, wrong passwords do.
 */
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { withTenant } from '@lt/db';
import { startEmbeddedCognito, type EmbeddedCognito } from '@lt/embedded';
import { createLogger } from '@lt/logger';
import { startStack } from '@lt/app';
import { Cognito } from '@lt/subgraph-auth/cognito';
import { Cleanup, createTestTenant, testEnv, waitFor } from '@lt/testing';
import { codes, gql } from '../support/graphql';
import { testEmail, testPassword } from '../support/identity';

const cleanup = new Cleanup();
afterAll(() => cleanup.run());

const LOGIN = 'mutation ($e: String!, $p: String!) { login(email: $e, password: $p) { accessToken } }';
const ME = '{ me { id } }';

describe('Cognito unreachable', () => {
  it('answers SERVICE_UNAVAILABLE, keeps the login limit for wrong passwords, and recovers', async () => {
    const dataDir = mkdtempSync(join(tmpdir(), 'lt-cognito-outage-'));
    cleanup.add(() => rmSync(dataDir, { recursive: true, force: true }));
    let cl: EmbeddedCognito = await startEmbeddedCognito({ dataDir, port: 0 });
    const port = cl.port;
    const options = { endpoint: cl.endpoint, userPoolId: cl.userPoolId, clientId: cl.clientId, issuer: cl.issuer };
    const client = new Cognito(options);
    const email = testEmail('outage');
    const password = testPassword();
    const sub = await client.signUp(email, password);
    await client.adminConfirmSignUp(sub);
    const { accessToken } = await client.passwordAuth(email, password);
    await cl.stop();

    // The router starts with nothing answering at the JWKS address.
    const stack = await startStack({
      databaseUrl: testEnv().databaseUrl,
      contextSecret: testEnv().contextSecret,
      log: createLogger({ level: 'silent' }),
      auth: {
        // No breaker trips and no retries: each login asks Cognito once.
        cognito: { ...options, retries: 0, breakerThreshold: 1_000 },
        loginLimits: { perEmail: 2, perAddress: 100_000, windowSeconds: 300 },
      },
    });
    cleanup.add(() => stack.stop());
    const tenant = await createTestTenant(stack.db, 'cognito-down');
    const user = await withTenant(stack.db, tenant.id, (tx) =>
      tx.user.create({ data: { cognitoSub: sub, email, tenantId: tenant.id, role: 'MEMBER' }, select: { id: true } }),
    );

    const down = await gql(stack.routerUrl, ME, {}, { authorization: `Bearer ${accessToken}` });
    expect(down.status).toBe(200);
    expect(codes(down)).toEqual(['SERVICE_UNAVAILABLE']);
    // Twice the per-e-mail budget of logins, all failed by the outage: none counts.
    for (let i = 0; i < 4; i++)
      expect(codes(await gql(stack.routerUrl, LOGIN, { e: email, p: password }))).toEqual(['SERVICE_UNAVAILABLE']);

    cl = await startEmbeddedCognito({ dataDir, port });
    cleanup.add(() => cl.stop());
    // The JWKS is asked again at most once a second after a failure: wait for the first answer
    // that is not SERVICE_UNAVAILABLE, which must be the right one.
    const back = await waitFor(
      async () => {
        const r = await gql<{ me: { id: string } }>(
          stack.routerUrl,
          ME,
          {},
          { authorization: `Bearer ${accessToken}` },
        );
        return codes(r).includes('SERVICE_UNAVAILABLE') ? undefined : r;
      },
      { what: 'the router to verify tokens again' },
    );
    expect(back.errors).toBeUndefined();
    expect(back.data?.me.id).toBe(user.id);
    const login = await gql(stack.routerUrl, LOGIN, { e: email, p: password });
    expect(login.errors).toBeUndefined();
    // Wrong passwords do count: the budget (2) is spent by the login above and one wrong guess.
    expect(codes(await gql(stack.routerUrl, LOGIN, { e: email, p: `${password}x` }))).toEqual(['UNAUTHENTICATED']);
    expect(codes(await gql(stack.routerUrl, LOGIN, { e: email, p: `${password}x` }))).toEqual(['RATE_LIMITED']);
  });
});
