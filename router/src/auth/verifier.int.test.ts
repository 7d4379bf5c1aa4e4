/**
 * Token checks against cognito-local: only this pool's, this client's, unexpired,
 * untampered access tokens pass; everything else is UNAUTHENTICATED with a reason for metrics.
 */
import {
  CognitoIdentityProviderClient,
  CreateUserPoolClientCommand,
  CreateUserPoolCommand,
} from '@aws-sdk/client-cognito-identity-provider';
import { afterEach, beforeAll, describe, expect, it, vi } from 'vitest';
import { Cognito } from '@lt/subgraph-auth/cognito';
import { testEnv, uniqueName } from '@lt/testing';
import { createCognitoAuthenticator } from './cognitoAuthenticator';
import { MembershipResolver } from './membership';
import type { MembershipStore } from './membershipStore';
import { createAccessTokenVerifier, type AuthFailureReason } from './verifier';

const password = 'Passw0rd-ok';
let tokens: { accessToken: string; idToken: string; sub: string };
const env = () => testEnv();

async function user(c: Cognito) {
  const email = `${uniqueName('tok').toLowerCase()}@example.test`;
  const sub = await c.signUp(email, password);
  await c.adminConfirmSignUp(sub);
  return c.passwordAuth(email, password);
}

beforeAll(async () => {
  tokens = await user(
    new Cognito({
      endpoint: env().cognitoEndpoint,
      userPoolId: env().cognitoUserPoolId,
      clientId: env().cognitoClientId,
    }),
  );
});
afterEach(() => {
  vi.useRealTimers();
});

/** An authenticator whose membership step always succeeds: these tests are about the token. */
function authenticator() {
  const reasons: AuthFailureReason[] = [];
  const store: MembershipStore = {
    lookup: async (sub) => ({
      membership: { userId: 'u', sub, tenantId: 't', role: 'MEMBER', tenantStatus: 'ACTIVE' },
      revoked: false,
      signedOutAt: null,
    }),
    put: async () => undefined,
    ping: async () => undefined,
    stop: async () => undefined,
  };
  const verifier = createAccessTokenVerifier({
    endpoint: env().cognitoEndpoint,
    userPoolId: env().cognitoUserPoolId,
    clientId: env().cognitoClientId,
  });
  const a = createCognitoAuthenticator({
    verifier,
    memberships: new MembershipResolver({ db: null as never, store }),
    onFailure: (r) => reasons.push(r),
  });
  return { a, reasons, verifier };
}

const b64 = (o: unknown) => Buffer.from(JSON.stringify(o)).toString('base64url');
const part = (t: string, i: number) =>
  JSON.parse(Buffer.from(t.split('.')[i]!, 'base64url').toString()) as Record<string, unknown>;

async function refused(token: string, reason: AuthFailureReason) {
  const { a, reasons } = authenticator();
  await expect(a.authenticate(`Bearer ${token}`)).rejects.toMatchObject({ extensions: { code: 'UNAUTHENTICATED' } });
  expect(reasons).toEqual([reason]);
}

describe('access token verification', () => {
  it('accepts a valid access token', async () => {
    const { a } = authenticator();
    const r = await a.authenticate(`Bearer ${tokens.accessToken}`);
    expect(r?.membership.sub).toBe(tokens.sub);
    expect(r?.tokenId).toBeTruthy();
  });

  it('no credentials = anonymous; a non-Bearer value is refused', async () => {
    const { a } = authenticator();
    expect(await a.authenticate(undefined)).toBeNull();
    await expect(a.authenticate(`Basic abc`)).rejects.toMatchObject({ extensions: { code: 'UNAUTHENTICATED' } });
  });

  it('refuses an ID token', () => refused(tokens.idToken, 'wrong_claims'));

  it('refuses a tampered payload (signature no longer matches)', async () => {
    const [h, , s] = tokens.accessToken.split('.');
    const payload = { ...part(tokens.accessToken, 1), sub: '00000000-0000-0000-0000-000000000000' };
    await refused(`${h}.${b64(payload)}.${s}`, 'bad_signature');
  });

  it('refuses alg: none (with or without a signature part)', async () => {
    const header = b64({ ...part(tokens.accessToken, 0), alg: 'none' });
    const [, p, sig] = tokens.accessToken.split('.');
    await refused(`${header}.${p}.${sig}`, 'bad_signature');
    await refused(`${header}.${p}.`, 'malformed');
  });

  it('refuses an unknown kid', async () => {
    const [, p, s] = tokens.accessToken.split('.');
    await refused(`${b64({ ...part(tokens.accessToken, 0), kid: 'not-a-key' })}.${p}.${s}`, 'unknown_key');
  });

  /** Moves the clock past the token's expiry (+ grace) and expects the refusal, reason 'expired'. */
  async function refusedOnceExpired({ a, reasons }: ReturnType<typeof authenticator>): Promise<void> {
    const exp = part(tokens.accessToken, 1)['exp'] as number;
    vi.useFakeTimers({ toFake: ['Date'] });
    vi.setSystemTime((exp + 6) * 1000);
    await expect(a.authenticate(`Bearer ${tokens.accessToken}`)).rejects.toMatchObject({
      extensions: { code: 'UNAUTHENTICATED' },
    });
    expect(reasons).toEqual(['expired']);
  }

  it('refuses an expired token (beyond the grace)', async () => {
    const auth = authenticator();
    await auth.verifier.hydrate();
    await refusedOnceExpired(auth);
  });

  it('a token verified before is still refused once it expires (the verified-token cache checks expiry)', async () => {
    const auth = authenticator();
    expect((await auth.a.authenticate(`Bearer ${tokens.accessToken}`))?.membership.sub).toBe(tokens.sub);
    await refusedOnceExpired(auth);
  });

  it("refuses another pool's token (same signing key in cognito-local, other issuer) and another client's", async () => {
    const sdk = new CognitoIdentityProviderClient({
      region: 'us-east-1',
      endpoint: env().cognitoEndpoint,
      credentials: { accessKeyId: 'local', secretAccessKey: 'local' },
    });
    const pool = await sdk.send(
      new CreateUserPoolCommand({ PoolName: uniqueName('foreign'), UsernameAttributes: ['email'] }),
    );
    const poolId = pool.UserPool!.Id!;
    const client = await sdk.send(new CreateUserPoolClientCommand({ UserPoolId: poolId, ClientName: 'foreign' }));
    const foreign = await user(
      new Cognito({ endpoint: env().cognitoEndpoint, userPoolId: poolId, clientId: client.UserPoolClient!.ClientId! }),
    );
    await refused(foreign.accessToken, 'wrong_issuer');

    const other = await sdk.send(
      new CreateUserPoolClientCommand({ UserPoolId: env().cognitoUserPoolId, ClientName: uniqueName('other') }),
    );
    const otherClient = await user(
      new Cognito({
        endpoint: env().cognitoEndpoint,
        userPoolId: env().cognitoUserPoolId,
        clientId: other.UserPoolClient!.ClientId!,
      }),
    );
    await refused(otherClient.accessToken, 'wrong_claims');
  });
});
