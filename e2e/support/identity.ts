/**
 * Real identities for tests: a Cognito user (cognito-local) + its `users` row, with a
 * fresh access token, and a stack whose router verifies Cognito tokens. Call the router as
 * `gql(stack.routerUrl, query, vars, bearer(user))`.
 *
 *   const stack = await startAuthedStack();
 *   const tenant = await createTestTenant(stack.db);
 *   const admin = await createUserWithToken(stack, { tenantId: tenant.id, role: 'TENANT_ADMIN' });
 */
import { randomBytes } from 'node:crypto';
import type { Redis } from 'ioredis';
import type { Role } from '@lt/context';
import { withPlatform, withTenant, type Db } from '@lt/db';
import { createLogger } from '@lt/logger';
import { createRedisConnection } from '@lt/pubsub';
import { startStack, type Stack, type StackOptions } from '@lt/app';
import { Cognito } from '@lt/subgraph-auth/cognito';
import { testEnv, uniqueName } from '@lt/testing';

export interface TestUser {
  /** `users.id`. */
  userId: string;
  /** Cognito `sub`. */
  sub: string;
  email: string;
  password: string;
  role: Role;
  tenantId: string | null;
  accessToken: string;
  idToken: string;
  refreshToken: string | null;
}

export type CreateUserInput =
  | { role: 'PLATFORM_ADMIN'; tenantId?: null; email?: string; password?: string }
  | { role: 'TENANT_ADMIN' | 'MEMBER'; tenantId: string; email?: string; password?: string };

/** The Cognito client of the test pool (cognito-local, ids from the global setup). */
export function testCognito(): Cognito {
  const env = testEnv();
  return new Cognito({
    endpoint: env.cognitoEndpoint,
    userPoolId: env.cognitoUserPoolId,
    clientId: env.cognitoClientId,
  });
}

/** A password that satisfies the pool policy (min 8, upper, lower, digit). */
export const testPassword = (): string => `Pw1-${randomBytes(6).toString('hex')}A`;

/** A unique, lower-case e-mail address. */
export const testEmail = (prefix = 'user'): string => `${uniqueName(prefix).toLowerCase()}@example.test`;

/**
 * Creates a confirmed Cognito user and its `users` row (tenant user through RLS, platform admin
 * through the platform path), logs in and returns the tokens. `stack` only needs `db`.
 */
export async function createUserWithToken(stack: { db: Db }, input: CreateUserInput): Promise<TestUser> {
  const cognito = testCognito();
  const email = (input.email ?? testEmail(input.role.toLowerCase())).toLowerCase();
  const password = input.password ?? testPassword();
  const sub = await cognito.signUp(email, password);
  await cognito.adminConfirmSignUp(sub);
  const tenantId = input.role === 'PLATFORM_ADMIN' ? null : input.tenantId;
  const data = { cognitoSub: sub, email, tenantId, role: input.role };
  const row = tenantId
    ? await withTenant(stack.db, tenantId, (tx) => tx.user.create({ data, select: { id: true } }))
    : await withPlatform(stack.db, (tx) => tx.user.create({ data, select: { id: true } }));
  const tokens = await cognito.passwordAuth(email, password);
  return {
    userId: row.id,
    sub,
    email,
    password,
    role: input.role,
    tenantId,
    accessToken: tokens.accessToken,
    idToken: tokens.idToken,
    refreshToken: tokens.refreshToken,
  };
}

/** `Authorization` header for `gql(…, headers)`. */
export const bearer = (user: { accessToken: string }): Record<string, string> => ({
  authorization: `Bearer ${user.accessToken}`,
});

export interface AuthedStack extends Stack {
  /** The Redis connection the stack uses (closed by `stop`). */
  redis: Redis;
}

/**
 * `startStack` with the real identity path: cognito-local, Redis membership cache and rate limits.
 * Extra options (e.g. `identity`, `log`) pass through.
 */
export async function startAuthedStack(
  options: Partial<StackOptions> = {},
  /** Redis of this stack (default: the shared test Redis); outage tests pass their private one. */
  redisUrl = testEnv().redisUrl,
): Promise<AuthedStack> {
  const env = testEnv();
  // The production settings (command deadline, no long retries): outage tests rely on them.
  const redis = createRedisConnection(redisUrl);
  try {
    const stack = await startStack({
      databaseUrl: env.databaseUrl,
      contextSecret: env.contextSecret,
      log: createLogger({ level: 'silent' }),
      auth: {
        cognito: { endpoint: env.cognitoEndpoint, userPoolId: env.cognitoUserPoolId, clientId: env.cognitoClientId },
        redis,
        // Every test logs in from 127.0.0.1 through one shared Redis: a per-address limit would
        // couple test files and back-to-back runs. Per-e-mail limits (unique e-mails) stay on.
        loginLimits: { perAddress: 100_000 },
      },
      ...options,
    });
    return {
      ...stack,
      redis,
      async stop() {
        await stack.stop();
        redis.disconnect();
      },
    };
  } catch (err) {
    redis.disconnect();
    throw err;
  }
}
