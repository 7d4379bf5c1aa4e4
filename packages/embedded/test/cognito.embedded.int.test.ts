/** cognito-local in-process: seeded pool and client, tokens, and users kept across a restart. */
import { randomUUID } from 'node:crypto';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import {
  AdminConfirmSignUpCommand,
  AdminCreateUserCommand,
  AdminSetUserPasswordCommand,
  CognitoIdentityProviderClient,
  DescribeUserPoolClientCommand,
  InitiateAuthCommand,
  SignUpCommand,
} from '@aws-sdk/client-cognito-identity-provider';
import { afterAll, describe, expect, it } from 'vitest';
import { startEmbeddedCognito, type EmbeddedCognito } from '@lt/embedded';

const dataDir = mkdtempSync(join(tmpdir(), 'lt-embedded-cognito-'));
const running: EmbeddedCognito[] = [];
const clients: CognitoIdentityProviderClient[] = [];

afterAll(async () => {
  clients.forEach((c) => c.destroy());
  await Promise.all(running.map((c) => c.stop()));
  rmSync(dataDir, { recursive: true, force: true });
});

async function start(port = 0): Promise<{ cognito: EmbeddedCognito; sdk: CognitoIdentityProviderClient }> {
  const cognito = await startEmbeddedCognito({ dataDir, port });
  running.push(cognito);
  const sdk = new CognitoIdentityProviderClient({
    endpoint: cognito.endpoint,
    region: 'us-east-1',
    credentials: { accessKeyId: 'local', secretAccessKey: 'local' },
  });
  clients.push(sdk);
  return { cognito, sdk };
}

function claims(jwt: string): Record<string, unknown> {
  return JSON.parse(Buffer.from(jwt.split('.')[1]!, 'base64url').toString('utf8')) as Record<string, unknown>;
}

async function login(sdk: CognitoIdentityProviderClient, clientId: string, email: string, password: string) {
  const out = await sdk.send(
    new InitiateAuthCommand({
      AuthFlow: 'USER_PASSWORD_AUTH',
      ClientId: clientId,
      AuthParameters: { USERNAME: email, PASSWORD: password },
    }),
  );
  return out.AuthenticationResult!;
}

describe('embedded cognito-local', () => {
  it('serves the seeded pool; sign-up and admin-created users log in, and still do after a restart', async () => {
    const t0 = performance.now();
    const first = await start();
    console.log(`embedded cognito start-up (fresh data dir): ${Math.round(performance.now() - t0)} ms`);
    const { cognito, sdk } = first;
    expect(cognito.seeded).toEqual(['pool local_supergraph', 'client supergraphlocalclient']);
    expect(cognito.endpoint).toBe(`http://127.0.0.1:${cognito.port}`);
    expect(cognito.issuer).toBe(`${cognito.endpoint}/local_supergraph`);
    const described = await sdk.send(
      new DescribeUserPoolClientCommand({ UserPoolId: cognito.userPoolId, ClientId: cognito.clientId }),
    );
    expect(described.UserPoolClient?.ExplicitAuthFlows).toContain('ALLOW_USER_PASSWORD_AUTH');

    // Self sign-up, confirmed by an admin.
    const email = `${randomUUID()}@example.test`;
    const password = 'Passw0rd-embedded';
    const signUp = await sdk.send(
      new SignUpCommand({
        ClientId: cognito.clientId,
        Username: email,
        Password: password,
        UserAttributes: [{ Name: 'email', Value: email }],
      }),
    );
    await sdk.send(new AdminConfirmSignUpCommand({ UserPoolId: cognito.userPoolId, Username: email }));
    const tokens = await login(sdk, cognito.clientId, email, password);
    const access = claims(tokens.AccessToken!);
    expect(access).toMatchObject({
      iss: cognito.issuer,
      sub: signUp.UserSub,
      client_id: cognito.clientId,
      token_use: 'access',
    });
    const jwks = (await (await fetch(`${cognito.issuer}/.well-known/jwks.json`)).json()) as { keys: unknown[] };
    expect(jwks.keys).toHaveLength(1);

    // Admin-created user with a permanent password.
    const admin = `${randomUUID()}@example.test`;
    await sdk.send(
      new AdminCreateUserCommand({
        UserPoolId: cognito.userPoolId,
        Username: admin,
        UserAttributes: [
          { Name: 'email', Value: admin },
          { Name: 'email_verified', Value: 'true' },
        ],
        MessageAction: 'SUPPRESS',
      }),
    );
    await sdk.send(
      new AdminSetUserPasswordCommand({
        UserPoolId: cognito.userPoolId,
        Username: admin,
        Password: password,
        Permanent: true,
      }),
    );
    expect(claims((await login(sdk, cognito.clientId, admin, password)).IdToken!)).toMatchObject({
      email: admin,
      aud: cognito.clientId,
    });

    // Restart on the same data dir and port: same ids and issuer, same users, a wrong password refused.
    await first.cognito.stop();
    running.splice(running.indexOf(first.cognito), 1);
    const second = await start(cognito.port);
    expect(second.cognito.seeded).toEqual([]);
    expect([second.cognito.userPoolId, second.cognito.issuer]).toEqual([cognito.userPoolId, cognito.issuer]);
    const again = claims((await login(second.sdk, cognito.clientId, email, password)).AccessToken!);
    expect(again).toMatchObject({ sub: signUp.UserSub, iss: second.cognito.issuer });
    await expect(login(second.sdk, cognito.clientId, admin, 'wrong-Passw0rd')).rejects.toThrow();
    expect(claims((await login(second.sdk, cognito.clientId, admin, password)).AccessToken!).sub).toBeTruthy();
  });
});
