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
import { registerSaga } from '../src/useCases/register';
import { removeUserSaga } from '../src/useCases/removeUser';
import type { AuthServices, SagaStep } from '../src/deps';

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

function services(
  failAt?: SagaStep,
  events: IdentityEvent[] = [],
  over: { cognito?: Cognito; logs?: string[] } = {},
): AuthServices {
  const bus = createMemoryIdentityBus();
  bus.subscribe((e) => events.push(e));
  const logs = over.logs;
  return {
    db,
    log: logs ? createLogger({ level: 'info', write: (l) => logs.push(l) }) : createLogger({ level: 'silent' }),
    cognito: over.cognito ?? cognito,
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

/**
 * The real Cognito client, recording the `sub` of every user it signs up, so a test can ask the pool
 * about exactly that user (AdminGetUser), confirmed or not. `failDelete` makes AdminDeleteUser fail.
 */
function recordingCognito(opts: { failDelete?: boolean } = {}): { client: Cognito; subs: string[] } {
  const subs: string[] = [];
  const client = Object.create(cognito) as Cognito;
  client.signUp = async (e: string, p: string) => {
    const sub = await cognito.signUp(e, p);
    subs.push(sub);
    return sub;
  };
  client.adminDeleteUser = async (sub: string) => {
    if (opts.failDelete) throw new Error('injected AdminDeleteUser failure');
    return cognito.adminDeleteUser(sub);
  };
  return { client, subs };
}

describe('register saga', () => {
  it('succeeds end to end and consumes the invitation', async () => {
    const tenant = await createTestTenant(db);
    const e = email();
    const code = await invite(tenant.id, e);
    const { user, tokens } = await registerSaga(services(), { invitationCode: code, email: e, password });
    expect(user).toMatchObject({ email: e, tenantId: tenant.id, role: 'MEMBER' });
    expect(tokens.sub).toBe(user.cognitoSub);
    expect(await cognito.userExists(user.cognitoSub)).toBe(true);
    await expect(registerSaga(services(), { invitationCode: code, email: e, password })).rejects.toMatchObject({
      extensions: { code: 'BAD_USER_INPUT', field: 'invitationCode' },
    });
  });

  it('a failure before the Cognito step leaves nothing anywhere', async () => {
    const tenant = await createTestTenant(db);
    const e = email();
    const code = await invite(tenant.id, e);
    const c = recordingCognito();
    await expect(
      registerSaga(services('register.invitation_checked', [], { cognito: c.client }), {
        invitationCode: code,
        email: e,
        password,
      }),
    ).rejects.toThrow(/injected/);
    expect(await userRows(tenant.id, e)).toEqual([]);
    expect(c.subs).toEqual([]); // never signed up
  });

  for (const step of ['register.cognito_signed_up', 'register.cognito_confirmed', 'register.user_created'] as const) {
    it(`a failure after ${step} deletes the Cognito user and leaves no row; the invitation stays usable`, async () => {
      const tenant = await createTestTenant(db);
      const e = email();
      const code = await invite(tenant.id, e);
      const c = recordingCognito();
      await expect(
        registerSaga(services(step, [], { cognito: c.client }), { invitationCode: code, email: e, password }),
      ).rejects.toThrow(/injected/);
      expect(await userRows(tenant.id, e)).toEqual([]);
      // The pool itself, by sub: the user is gone (not merely unconfirmed or unable to sign in).
      expect(c.subs).toHaveLength(1);
      expect(await cognito.userExists(c.subs[0]!)).toBe(false);
      // nothing was burnt: the same invitation still works
      const { user } = await registerSaga(services(), { invitationCode: code, email: e, password });
      expect(user.email).toBe(e);
    });
  }

  it('a compensation that fails is logged for an operator with the saga id; the others run, the original error is thrown', async () => {
    const tenant = await createTestTenant(db);
    const e = email();
    const code = await invite(tenant.id, e);
    const c = recordingCognito({ failDelete: true });
    const logs: string[] = [];
    try {
      await expect(
        registerSaga(services('register.user_created', [], { cognito: c.client, logs }), {
          invitationCode: code,
          email: e,
          password,
        }),
      ).rejects.toThrow(/injected failure after register.user_created/);
      // The database side was compensated (the row is gone, the invitation released)...
      expect(await userRows(tenant.id, e)).toEqual([]);
      const invitation = await withTenant(db, tenant.id, (tx) => tx.invitation.findFirst({ where: { email: e } }));
      expect(invitation?.usedAt).toBeNull();
      // ...the Cognito user could not be deleted: it is left, and the log says so, tied to the saga.
      expect(c.subs).toHaveLength(1);
      expect(await cognito.userExists(c.subs[0]!)).toBe(true);
      const lines = logs.map((l) => JSON.parse(l) as Record<string, unknown>);
      const failed = lines.filter((l) => l['msg'] === 'compensation failed');
      expect(failed).toEqual([expect.objectContaining({ level: 'error', step: 'cognito.adminDeleteUser' })]);
      const compensated = lines.filter((l) => l['msg'] === 'compensated').map((l) => l['step']);
      expect(compensated).toEqual(['db.deleteUser+releaseInvitation']);
      const sagaId = failed[0]!['sagaId'];
      expect(typeof sagaId).toBe('string');
      expect(lines.filter((l) => l['msg'] === 'failed, compensating')[0]?.['sagaId']).toBe(sagaId);
      expect(logs.join('\n')).not.toContain(password);
    } finally {
      for (const sub of c.subs) await cognito.adminDeleteUser(sub);
    }
  });
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
