/**
 * register and removeUser are sagas across Cognito and Postgres: a failure injected at each step
 * leaves no orphan on either side.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createDb, withTenant, type Db } from '@lt/db';
import { createMemoryIdentityBus, type IdentityEvent } from '@lt/identity';
import { createLogger } from '@lt/logger';
import { createTestTenant, testEnv, uniqueName } from '@lt/testing';
import { Cognito } from '../src/cognito';
import { createMemoryRateLimiter } from '../src/data/rateLimit';
import { insertInvitation, newInvitationCode } from '../src/data/invitations';
import { insertUser } from '../src/data/users';
import { registerSaga } from '../src/sagas/register';
import { removeUserSaga } from '../src/sagas/removeUser';
import type { AuthServices, SagaStep } from '../src/services';

let db: Db;
let cognito: Cognito;
beforeAll(() => {
  const env = testEnv();
  db = createDb({ url: env.databaseUrl, max: 3 });
  cognito = new Cognito({
    endpoint: env.cognitoEndpoint,
    userPoolId: env.cognitoUserPoolId,
    clientId: env.cognitoClientId,
  });
});
afterAll(async () => {
  await db?.$disconnect();
});

const password = 'Passw0rd-ok';
const email = () => `${uniqueName('saga').toLowerCase()}@example.test`;

function services(failAt?: SagaStep, events: IdentityEvent[] = []): AuthServices {
  const bus = createMemoryIdentityBus();
  bus.subscribe((e) => events.push(e));
  return {
    db,
    log: createLogger({ level: 'silent' }),
    cognito,
    identity: bus,
    limiter: createMemoryRateLimiter(),
    now: Date.now,
    invitationTtlSeconds: 3600,
    loginLimits: { perEmail: 10, perAddress: 10, windowSeconds: 60 },
    afterStep: (step) => {
      if (step === failAt) throw new Error(`injected failure after ${step}`);
    },
  };
}

async function invite(tenantId: string, to: string) {
  const { code, codeHash } = newInvitationCode();
  await withTenant(db, tenantId, (tx) =>
    insertInvitation(tx, {
      tenantId,
      email: to,
      role: 'MEMBER',
      codeHash,
      expiresAt: new Date(Date.now() + 3600_000),
      createdById: '00000000-0000-0000-0000-000000000000',
    }),
  );
  return code;
}

const userRows = (tenantId: string, e: string) =>
  withTenant(db, tenantId, (tx) => tx.user.findMany({ where: { email: e } }));

/** Cognito's view: can this e-mail sign in? (the pool keys users by sub; e-mail is an alias) */
const cognitoHas = (e: string) =>
  cognito.passwordAuth(e, password).then(
    () => true,
    () => false,
  );

describe('register saga', () => {
  it('succeeds end to end and consumes the invitation', async () => {
    const tenant = await createTestTenant(db);
    const e = email();
    const code = await invite(tenant.id, e);
    const { user, tokens } = await registerSaga(services(), { invitationCode: code, email: e, password });
    expect(user).toMatchObject({ email: e, tenantId: tenant.id, role: 'MEMBER' });
    expect(tokens.sub).toBe(user.cognitoSub);
    await expect(registerSaga(services(), { invitationCode: code, email: e, password })).rejects.toMatchObject({
      extensions: { code: 'BAD_USER_INPUT', field: 'invitationCode' },
    });
  });

  it('a failure before the Cognito step leaves nothing anywhere', async () => {
    const tenant = await createTestTenant(db);
    const e = email();
    const code = await invite(tenant.id, e);
    await expect(
      registerSaga(services('register.invitation_checked'), { invitationCode: code, email: e, password }),
    ).rejects.toThrow(/injected/);
    expect(await userRows(tenant.id, e)).toEqual([]);
    expect(await cognitoHas(e)).toBe(false);
  });

  for (const step of ['register.cognito_signed_up', 'register.cognito_confirmed', 'register.user_created'] as const) {
    it(`a failure after ${step} deletes the Cognito user and leaves no row; the invitation stays usable`, async () => {
      const tenant = await createTestTenant(db);
      const e = email();
      const code = await invite(tenant.id, e);
      await expect(registerSaga(services(step), { invitationCode: code, email: e, password })).rejects.toThrow(
        /injected/,
      );
      expect(await userRows(tenant.id, e)).toEqual([]);
      expect(await cognitoHas(e)).toBe(false);
      // nothing was burnt: the same invitation still works
      const { user } = await registerSaga(services(), { invitationCode: code, email: e, password });
      expect(user.email).toBe(e);
    });
  }
});

describe('removeUser saga', () => {
  async function member(tenantId: string) {
    const e = email();
    const sub = await cognito.signUp(e, password);
    await cognito.adminConfirmSignUp(sub);
    const row = await withTenant(db, tenantId, (tx) =>
      insertUser(tx, { cognitoSub: sub, email: e, tenantId, role: 'MEMBER' }),
    );
    return { ...row, sub };
  }
  const admin = (tenantId: string) => ({
    userId: '00000000-0000-0000-0000-00000000000a',
    sub: 'admin',
    tenantId,
    role: 'TENANT_ADMIN' as const,
    tenantStatus: 'ACTIVE' as const,
  });

  it('removes the row and the Cognito user, and announces it', async () => {
    const tenant = await createTestTenant(db);
    const u = await member(tenant.id);
    const events: IdentityEvent[] = [];
    await removeUserSaga(services(undefined, events), admin(tenant.id), u.id);
    expect(await userRows(tenant.id, u.email)).toEqual([]);
    expect(await cognito.userExists(u.sub)).toBe(false);
    expect(events).toEqual([{ type: 'user.changed', userId: u.id, sub: u.sub, tenantId: tenant.id, role: null }]);
  });

  it('a failure before the Cognito step keeps both the row and the Cognito user', async () => {
    const tenant = await createTestTenant(db);
    const u = await member(tenant.id);
    await expect(removeUserSaga(services('removeUser.user_deleted'), admin(tenant.id), u.id)).rejects.toThrow(
      /injected/,
    );
    expect(await userRows(tenant.id, u.email)).toHaveLength(1);
    expect(await cognito.userExists(u.sub)).toBe(true);
  });

  it('a failed commit after the Cognito delete signs the user out everywhere; a retry converges', async () => {
    const tenant = await createTestTenant(db);
    const u = await member(tenant.id);
    const events: IdentityEvent[] = [];
    await expect(
      removeUserSaga(services('removeUser.cognito_deleted', events), admin(tenant.id), u.id),
    ).rejects.toThrow(/injected/);
    // Rolled back: the row is still there, the Cognito user is not; its tokens are refused everywhere.
    expect(await userRows(tenant.id, u.email)).toHaveLength(1);
    expect(await cognito.userExists(u.sub)).toBe(false);
    expect(events).toMatchObject([{ type: 'user.signed_out', sub: u.sub }]);
    // The admin retries: the row goes, the missing Cognito user is not an error.
    await removeUserSaga(services(), admin(tenant.id), u.id);
    expect(await userRows(tenant.id, u.email)).toEqual([]);
  });

  it("another tenant's user is NOT_FOUND and untouched", async () => {
    const [a, b] = [await createTestTenant(db), await createTestTenant(db)];
    const u = await member(b.id);
    await expect(removeUserSaga(services(), admin(a.id), u.id)).rejects.toMatchObject({
      extensions: { code: 'NOT_FOUND' },
    });
    expect(await cognito.userExists(u.sub)).toBe(true);
  });
});
