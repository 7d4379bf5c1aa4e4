/** The platform admin is bootstrapped from configuration, once. */
import { afterAll, beforeAll, expect, it } from 'vitest';
import { createDb, withPlatform, type Db } from '@lt/db';
import { createLogger } from '@lt/logger';
import { testEnv, uniqueName } from '@lt/testing';
import { bootstrapPlatformAdmin } from '../src/useCases/bootstrapPlatformAdmin';
import { Cognito } from '../src/cognito';

let db: Db;
beforeAll(() => {
  db = createDb({ url: testEnv().databaseUrl, max: 2 });
});
afterAll(async () => {
  await db?.$disconnect();
});

it('creates the Cognito user and the PLATFORM_ADMIN row once; later starts find them', async () => {
  const env = testEnv();
  const cognito = new Cognito({
    endpoint: env.cognitoEndpoint,
    userPoolId: env.cognitoUserPoolId,
    clientId: env.cognitoClientId,
  });
  const email = `${uniqueName('root').toLowerCase()}@example.test`;
  const o = { db, cognito, log: createLogger({ level: 'silent' }), email, password: 'Passw0rd-root' };
  expect(await bootstrapPlatformAdmin(o)).toBe('created');
  expect(await bootstrapPlatformAdmin(o)).toBe('exists');
  const rows = await withPlatform(db, (tx) => tx.user.findMany({ where: { email } }));
  expect(rows).toMatchObject([{ role: 'PLATFORM_ADMIN', tenantId: null }]);
  const tokens = await cognito.passwordAuth(email, o.password);
  expect(tokens.sub).toBe(rows[0]!.cognitoSub);

  // A start that died between Cognito and Postgres: the Cognito user exists, the row does not.
  await withPlatform(db, (tx) => tx.user.delete({ where: { email } }));
  expect(await bootstrapPlatformAdmin(o)).toBe('created');
  const again = await withPlatform(db, (tx) => tx.user.findMany({ where: { email } }));
  expect(again[0]!.cognitoSub).toBe(rows[0]!.cognitoSub);
});
