/** The Cognito wrapper against cognito-local: error mapping, retries, the circuit breaker. */
import { CognitoIdentityProviderClient } from '@aws-sdk/client-cognito-identity-provider';
import { describe, expect, it } from 'vitest';
import { testEnv, uniqueName, waitFor } from '@lt/testing';
import { Cognito, type CognitoTransport } from '../src/cognito';

const env = () => testEnv();
const email = () => `${uniqueName('cg').toLowerCase()}@example.test`;
const password = 'Passw0rd-ok';

/** The real client behind a switch: `down = true` is an outage (connection refused). */
function switchable(): CognitoTransport & { down: boolean; calls: number } {
  const real = new CognitoIdentityProviderClient({
    region: 'us-east-1',
    endpoint: env().cognitoEndpoint,
    credentials: { accessKeyId: 'local', secretAccessKey: 'local' },
    maxAttempts: 1,
  });
  const t = {
    down: false,
    calls: 0,
    async send(command: unknown, options?: { abortSignal?: AbortSignal }) {
      t.calls++;
      if (t.down) throw Object.assign(new Error('connect ECONNREFUSED 127.0.0.1:9229'), { code: 'ECONNREFUSED' });
      return real.send(command as never, options);
    },
  };
  return t;
}

describe('Cognito wrapper', () => {
  it('maps Cognito errors to the closed list of codes', async () => {
    const c = new Cognito({
      endpoint: env().cognitoEndpoint,
      userPoolId: env().cognitoUserPoolId,
      clientId: env().cognitoClientId,
    });
    const e = email();
    const sub = await c.signUp(e, password);
    await c.adminConfirmSignUp(sub);
    await expect(c.signUp(e, password)).rejects.toMatchObject({ extensions: { code: 'CONFLICT', field: 'email' } });
    await expect(c.passwordAuth(e, 'Wrong-pass-1')).rejects.toMatchObject({ extensions: { code: 'UNAUTHENTICATED' } });
    await expect(c.passwordAuth(email(), password)).rejects.toMatchObject({ extensions: { code: 'UNAUTHENTICATED' } });
    const tokens = await c.passwordAuth(e, password);
    expect(tokens.sub).toBe(sub);
    expect(tokens.expiresIn).toBeGreaterThan(3000);
    await c.adminDeleteUser(sub);
    await c.adminDeleteUser(sub); // idempotent
    expect(await c.userExists(sub)).toBe(false);
  });

  it('retries idempotent calls, not SignUp', async () => {
    const t = switchable();
    const c = new Cognito({
      userPoolId: env().cognitoUserPoolId,
      clientId: env().cognitoClientId,
      transport: t,
      retries: 2,
      breakerThreshold: 100,
    });
    t.down = true;
    await expect(c.ping()).rejects.toMatchObject({ extensions: { code: 'SERVICE_UNAVAILABLE' } });
    expect(t.calls).toBe(3);
    t.calls = 0;
    await expect(c.signUp(email(), password)).rejects.toMatchObject({ extensions: { code: 'SERVICE_UNAVAILABLE' } });
    expect(t.calls).toBe(1);
  });

  it('the circuit breaker opens under an outage (fails fast) and closes after recovery', async () => {
    const t = switchable();
    const c = new Cognito({
      userPoolId: env().cognitoUserPoolId,
      clientId: env().cognitoClientId,
      transport: t,
      retries: 0,
      breakerThreshold: 3,
      breakerHalfOpenAfterMs: 300,
    });
    await c.ping();
    t.down = true;
    for (let i = 0; i < 3; i++)
      await expect(c.ping()).rejects.toMatchObject({ extensions: { code: 'SERVICE_UNAVAILABLE' } });
    expect(c.circuitState).toBe(1); // CircuitState.Open
    const before = t.calls;
    await expect(c.passwordAuth('a@example.test', password)).rejects.toMatchObject({
      extensions: { code: 'SERVICE_UNAVAILABLE' },
    });
    expect(t.calls).toBe(before); // fast fail: Cognito not even asked

    t.down = false;
    // After halfOpenAfter, one trial call goes through and closes the breaker.
    await waitFor(async () => (await c.ping().then(() => true)) as true, {
      timeoutMs: 3_000,
      intervalMs: 100,
      what: 'breaker half-open',
    });
    expect(c.circuitState).toBe(0); // CircuitState.Closed
  });

  it('a hung Cognito call times out as SERVICE_UNAVAILABLE', async () => {
    const c = new Cognito({
      userPoolId: env().cognitoUserPoolId,
      clientId: env().cognitoClientId,
      timeoutMs: 100,
      retries: 0,
      transport: {
        send: (_cmd, o) =>
          new Promise((_, reject) => o?.abortSignal?.addEventListener('abort', () => reject(new Error('aborted')))),
      },
    });
    await expect(c.ping()).rejects.toMatchObject({ extensions: { code: 'SERVICE_UNAVAILABLE' } });
  });
});
