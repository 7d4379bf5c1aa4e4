/**
 * The whole identity flow through the router: platform admin → invite tenant admin →
 * register → login → invite member → register → refresh → logout, then role rules and isolation.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createTestTenant, testEnv, waitFor } from '@lt/testing';
import { withTenant } from '@lt/db';
import { codes, gql } from '../support/graphql';
import {
  bearer,
  createUserWithToken,
  startAuthedStack,
  testEmail,
  testPassword,
  type AuthedStack,
} from '../support/identity';

let stack: AuthedStack;
beforeAll(async () => {
  stack = await startAuthedStack();
});
afterAll(async () => {
  await stack?.stop();
});

const INVITE = `mutation($input: InviteUserInput!) { inviteUser(input: $input) { code email role expiresAt tenant { id } } }`;
const REGISTER = `mutation($input: RegisterInput!) { register(input: $input) { accessToken idToken refreshToken expiresIn user { id email role tenant { id } } } }`;
const LOGIN = `mutation($email: String!, $password: String!) { login(email: $email, password: $password) { accessToken refreshToken expiresIn user { id role } } }`;
const REFRESH = `mutation($t: String!) { refreshToken(refreshToken: $t) { accessToken expiresIn user { id } } }`;
const ME = `{ me { id email role tenant { id } } }`;

type Payload = { accessToken: string; refreshToken: string; expiresIn: number; user: { id: string; role: string } };

describe('identity flow', () => {
  it('platform admin → tenant admin → member → refresh → logout', async () => {
    const platform = await createUserWithToken(stack, { role: 'PLATFORM_ADMIN' });
    const tenant = await createTestTenant(stack.db);

    // 1. the platform admin invites the tenant's first admin
    const adminEmail = testEmail('tadmin');
    const inv = await gql<{ inviteUser: { code: string; role: string; tenant: { id: string } } }>(
      stack.routerUrl,
      INVITE,
      { input: { email: adminEmail, role: 'TENANT_ADMIN', tenantId: tenant.id } },
      bearer(platform),
    );
    expect(inv.errors).toBeUndefined();
    expect(inv.data!.inviteUser).toMatchObject({ role: 'TENANT_ADMIN', tenant: { id: tenant.id } });

    // 2. register with it (single use)
    const adminPassword = testPassword();
    const reg = await gql<{ register: Payload & { user: { tenant: { id: string } } } }>(stack.routerUrl, REGISTER, {
      input: { invitationCode: inv.data!.inviteUser.code, email: adminEmail, password: adminPassword },
    });
    expect(reg.errors).toBeUndefined();
    expect(reg.data!.register.user).toMatchObject({
      email: adminEmail,
      role: 'TENANT_ADMIN',
      tenant: { id: tenant.id },
    });
    const again = await gql(stack.routerUrl, REGISTER, {
      input: { invitationCode: inv.data!.inviteUser.code, email: adminEmail, password: adminPassword },
    });
    expect(again.errors?.[0]?.extensions).toMatchObject({ code: 'BAD_USER_INPUT', field: 'invitationCode' });

    // 3. login
    const login = await gql<{ login: Payload }>(stack.routerUrl, LOGIN, { email: adminEmail, password: adminPassword });
    expect(login.errors).toBeUndefined();
    expect(login.data!.login.expiresIn).toBeGreaterThan(60);
    const admin = { accessToken: login.data!.login.accessToken };
    const me = await gql<{ me: { id: string; role: string } }>(stack.routerUrl, ME, {}, bearer(admin));
    expect(me.data!.me).toMatchObject({ id: reg.data!.register.user.id, role: 'TENANT_ADMIN' });

    // 4. the tenant admin invites a member (into its own tenant, without naming it)
    const memberEmail = testEmail('member');
    const inv2 = await gql<{ inviteUser: { code: string } }>(
      stack.routerUrl,
      INVITE,
      { input: { email: memberEmail, role: 'MEMBER' } },
      bearer(admin),
    );
    expect(inv2.errors).toBeUndefined();
    const memberPassword = testPassword();
    const reg2 = await gql<{ register: Payload }>(stack.routerUrl, REGISTER, {
      input: { invitationCode: inv2.data!.inviteUser.code, email: memberEmail, password: memberPassword },
    });
    expect(reg2.errors).toBeUndefined();
    expect(reg2.data!.register.user.role).toBe('MEMBER');

    // 5. refresh
    const refreshed = await gql<{ refreshToken: Payload }>(stack.routerUrl, REFRESH, {
      t: reg2.data!.register.refreshToken,
    });
    expect(refreshed.errors).toBeUndefined();
    const member = { accessToken: refreshed.data!.refreshToken.accessToken };
    const meMember = await gql<{ me: { role: string } }>(stack.routerUrl, ME, {}, bearer(member));
    expect(meMember.data!.me.role).toBe('MEMBER');

    // 6. logout: the same token is refused on the very next request, and the refresh token is dead
    const out = await gql<{ logout: boolean }>(
      stack.routerUrl,
      'mutation($t: String) { logout(refreshToken: $t) }',
      { t: reg2.data!.register.refreshToken },
      bearer(member),
    );
    expect(out.errors).toBeUndefined();
    const after = await gql(stack.routerUrl, ME, {}, bearer(member));
    expect(codes(after)).toEqual(['UNAUTHENTICATED']);
    const deadRefresh = await gql(stack.routerUrl, REFRESH, { t: reg2.data!.register.refreshToken });
    expect(codes(deadRefresh)).toEqual(['UNAUTHENTICATED']);
  });
});

describe('rules', () => {
  it('a wrong password and an unknown email get the same UNAUTHENTICATED answer', async () => {
    const tenant = await createTestTenant(stack.db);
    const u = await createUserWithToken(stack, { tenantId: tenant.id, role: 'MEMBER' });
    const wrong = await gql(stack.routerUrl, LOGIN, { email: u.email, password: 'Wrong-password-1' });
    const unknown = await gql(stack.routerUrl, LOGIN, { email: testEmail('nobody'), password: 'Wrong-password-1' });
    expect(codes(wrong)).toEqual(['UNAUTHENTICATED']);
    expect(codes(unknown)).toEqual(['UNAUTHENTICATED']);
    expect(wrong.errors![0]!.message).toBe(unknown.errors![0]!.message);
  });

  it('a MEMBER is refused on admin operations', async () => {
    const tenant = await createTestTenant(stack.db);
    const member = await createUserWithToken(stack, { tenantId: tenant.id, role: 'MEMBER' });
    const other = await createUserWithToken(stack, { tenantId: tenant.id, role: 'MEMBER' });
    for (const [q, v] of [
      [INVITE, { input: { email: testEmail(), role: 'MEMBER' } }],
      ['mutation($id: ID!) { changeUserRole(userId: $id, role: TENANT_ADMIN) { id } }', { id: other.userId }],
      ['mutation($id: ID!) { removeUser(userId: $id) }', { id: other.userId }],
    ] as const) {
      const r = await gql(stack.routerUrl, q, v, bearer(member));
      // Non-null root fields: the removed field nulls the whole result (`data: null`, present).
      expect(r).toHaveProperty('data', null);
      expect(codes(r)).toEqual(['UNAUTHORIZED_FIELD_OR_TYPE']);
    }
    // ...and nothing happened: the other member is still there, still a MEMBER; no invitation exists.
    const rows = await withTenant(stack.db, tenant.id, async (tx) => ({
      other: await tx.user.findUnique({ where: { id: other.userId }, select: { role: true } }),
      invitations: await tx.invitation.count(),
    }));
    expect(rows).toEqual({ other: { role: 'MEMBER' }, invitations: 0 });
  });

  it("another tenant's users and tenant answer NOT_FOUND", async () => {
    const [a, b] = [await createTestTenant(stack.db), await createTestTenant(stack.db)];
    const adminA = await createUserWithToken(stack, { tenantId: a.id, role: 'TENANT_ADMIN' });
    const memberB = await createUserWithToken(stack, { tenantId: b.id, role: 'MEMBER' });
    const role = await gql(
      stack.routerUrl,
      'mutation($id: ID!) { changeUserRole(userId: $id, role: TENANT_ADMIN) { id } }',
      { id: memberB.userId },
      bearer(adminA),
    );
    expect(codes(role)).toEqual(['NOT_FOUND']);
    const rm = await gql(
      stack.routerUrl,
      'mutation($id: ID!) { removeUser(userId: $id) }',
      { id: memberB.userId },
      bearer(adminA),
    );
    expect(codes(rm)).toEqual(['NOT_FOUND']);
    const inv = await gql(
      stack.routerUrl,
      INVITE,
      { input: { email: testEmail(), role: 'MEMBER', tenantId: b.id } },
      bearer(adminA),
    );
    expect(codes(inv)).toEqual(['NOT_FOUND']);
    // and B's member is untouched
    const me = await gql<{ me: { role: string } }>(stack.routerUrl, ME, {}, bearer(memberB));
    expect(me.data!.me.role).toBe('MEMBER');
  });

  it('a role change and a removal take effect on the next request', async () => {
    const tenant = await createTestTenant(stack.db);
    const admin = await createUserWithToken(stack, { tenantId: tenant.id, role: 'TENANT_ADMIN' });
    const user = await createUserWithToken(stack, { tenantId: tenant.id, role: 'MEMBER' });
    expect((await gql<{ me: { role: string } }>(stack.routerUrl, ME, {}, bearer(user))).data!.me.role).toBe('MEMBER');
    const ch = await gql(
      stack.routerUrl,
      'mutation($id: ID!) { changeUserRole(userId: $id, role: TENANT_ADMIN) { id role } }',
      { id: user.userId },
      bearer(admin),
    );
    expect(ch.errors).toBeUndefined();
    expect((await gql<{ me: { role: string } }>(stack.routerUrl, ME, {}, bearer(user))).data!.me.role).toBe(
      'TENANT_ADMIN',
    );
    const rm = await gql(
      stack.routerUrl,
      'mutation($id: ID!) { removeUser(userId: $id) }',
      { id: user.userId },
      bearer(admin),
    );
    expect(rm.errors).toBeUndefined();
    expect(codes(await gql(stack.routerUrl, ME, {}, bearer(user)))).toEqual(['UNAUTHENTICATED']);
    expect(await stack.cognito!.userExists(user.sub)).toBe(false);
  });

  it('spoofed x-tenant-*/x-user-* headers are ignored', async () => {
    const [a, b] = [await createTestTenant(stack.db), await createTestTenant(stack.db)];
    const member = await createUserWithToken(stack, { tenantId: a.id, role: 'MEMBER' });
    const spoof = {
      'x-tenant-id': b.id,
      'x-user-id': '00000000-0000-0000-0000-000000000000',
      'x-user-role': 'PLATFORM_ADMIN',
      'x-role': 'PLATFORM_ADMIN',
      'x-router-context': 'forged',
    };
    const me = await gql<{ me: { role: string; tenant: { id: string } } }>(
      stack.routerUrl,
      ME,
      {},
      {
        ...bearer(member),
        ...spoof,
      },
    );
    expect(me.data!.me).toMatchObject({ role: 'MEMBER', tenant: { id: a.id } });
    const anon = await gql(stack.routerUrl, ME, {}, spoof);
    // Without a token the spoofed headers make no caller: the router removes the @authenticated field.
    expect(anon.data).toEqual({ me: null });
    expect(codes(anon)).toEqual(['UNAUTHORIZED_FIELD_OR_TYPE']);
  });

  it('login attempts are rate-limited per email with a retry-after', async () => {
    const email = testEmail('limited');
    let last;
    for (let i = 0; i < 11; i++) last = await gql(stack.routerUrl, LOGIN, { email, password: 'Nope-nope-1' });
    expect(last!.errors?.[0]?.extensions).toMatchObject({ code: 'RATE_LIMITED' });
    expect(last!.errors![0]!.extensions!['retryAfter']).toBeGreaterThan(0);
  });

  it("logout without a refresh token signs out everywhere: other devices' tokens are refused, a new login works", async () => {
    const tenant = await createTestTenant(stack.db);
    const phone = await createUserWithToken(stack, { tenantId: tenant.id, role: 'MEMBER' });
    // The same user on a second device: another login, another token family.
    const laptop = (
      await gql<{ login: Payload }>(stack.routerUrl, LOGIN, { email: phone.email, password: phone.password })
    ).data!.login;
    expect(codes(await gql(stack.routerUrl, ME, {}, bearer(laptop)))).toEqual([]);
    // iat has a one-second resolution: make the sign-out strictly later than both logins.
    await new Promise((r) => setTimeout(r, 1_100));
    const out = await gql<{ logout: boolean }>(stack.routerUrl, 'mutation { logout }', {}, bearer(phone));
    expect(out.data?.logout).toBe(true);
    expect(codes(await gql(stack.routerUrl, ME, {}, bearer(laptop)))[0]).toMatch(/UNAUTHENTICATED/);
    expect(codes(await gql(stack.routerUrl, ME, {}, bearer(phone)))[0]).toMatch(/UNAUTHENTICATED/);
    await new Promise((r) => setTimeout(r, 1_100));
    const again = (
      await gql<{ login: Payload }>(stack.routerUrl, LOGIN, { email: phone.email, password: phone.password })
    ).data!.login;
    expect(codes(await gql(stack.routerUrl, ME, {}, bearer(again)))).toEqual([]);
  });

  it('logout with a refresh token Cognito refuses fails with BAD_USER_INPUT and revokes nothing', async () => {
    const tenant = await createTestTenant(stack.db);
    const u = await createUserWithToken(stack, { tenantId: tenant.id, role: 'MEMBER' });
    const session = (await gql<{ login: Payload }>(stack.routerUrl, LOGIN, { email: u.email, password: u.password }))
      .data!.login;
    // A token Cognito does not know, an empty string: refused, nothing revoked.
    for (const t of [`bogus-refresh-${Date.now()}`, '']) {
      const out = await gql(
        stack.routerUrl,
        'mutation($t: String) { logout(refreshToken: $t) }',
        { t },
        bearer(session),
      );
      expect(out.errors?.[0]?.extensions).toMatchObject({ code: 'BAD_USER_INPUT', field: 'refreshToken' });
    }
    // Had a revocation been published, it would have reached the router before this later one
    // (one identity bus, in order): once another user's sign-out has landed, the caller's
    // token is checked.
    const other = await createUserWithToken(stack, { tenantId: tenant.id, role: 'MEMBER' });
    const otherOut = await gql<{ logout: boolean }>(stack.routerUrl, 'mutation { logout }', {}, bearer(other));
    expect(otherOut.data?.logout).toBe(true);
    await waitFor(async () => codes(await gql(stack.routerUrl, ME, {}, bearer(other)))[0] === 'UNAUTHENTICATED', {
      what: "the other user's sign-out to reach the router",
    });
    // The caller's access token and refresh token still work.
    expect(codes(await gql(stack.routerUrl, ME, {}, bearer(session)))).toEqual([]);
    const refreshed = await gql<{ refreshToken: Payload }>(stack.routerUrl, REFRESH, { t: session.refreshToken });
    expect(refreshed.errors).toBeUndefined();
    // With its own refresh token the same logout succeeds, and both are revoked.
    const ok = await gql<{ logout: boolean }>(
      stack.routerUrl,
      'mutation($t: String) { logout(refreshToken: $t) }',
      { t: session.refreshToken },
      bearer(session),
    );
    expect(ok.data?.logout).toBe(true);
    await waitFor(async () => codes(await gql(stack.routerUrl, ME, {}, bearer(session)))[0] === 'UNAUTHENTICATED', {
      what: 'the revocation',
    });
    expect(codes(await gql(stack.routerUrl, REFRESH, { t: session.refreshToken }))).toEqual(['UNAUTHENTICATED']);
  });

  it('refreshes are rate-limited per refresh token, before Cognito is asked', async () => {
    const token = `bogus-refresh-${Date.now()}`;
    const seen: unknown[] = [];
    for (let i = 0; i < 11; i++) seen.push(codes(await gql(stack.routerUrl, REFRESH, { t: token }))[0]);
    // The first ten reach Cognito (which refuses the bogus token), the eleventh is refused here.
    expect(seen.slice(0, 10).every((c) => c === 'UNAUTHENTICATED')).toBe(true);
    expect(seen[10]).toBe('RATE_LIMITED');
  });
});

describe('per-address limits', () => {
  let limited: AuthedStack;
  beforeAll(async () => {
    const env = testEnv();
    // No Redis: an in-process limiter, so other test files' traffic from 127.0.0.1 does not count.
    limited = await startAuthedStack({
      auth: {
        cognito: { endpoint: env.cognitoEndpoint, userPoolId: env.cognitoUserPoolId, clientId: env.cognitoClientId },
        loginLimits: { perAddress: 3 },
      },
    });
  });
  afterAll(async () => {
    await limited?.stop();
  });

  it('registration attempts (guessing invitation codes) are limited per client address', async () => {
    const attempt = () =>
      gql(limited.routerUrl, REGISTER, {
        input: {
          invitationCode: `guess-${Math.random().toString(36).slice(2)}`,
          email: testEmail('guess'),
          password: testPassword(),
        },
      });
    const seen: unknown[] = [];
    for (let i = 0; i < 4; i++) seen.push(codes(await attempt())[0]);
    expect(seen.slice(0, 3).every((c) => c !== 'RATE_LIMITED')).toBe(true);
    expect(seen[3]).toBe('RATE_LIMITED');
  });

  it('refreshes are limited per client address across tokens', async () => {
    const seen: unknown[] = [];
    for (let i = 0; i < 4; i++)
      seen.push(codes(await gql(limited.routerUrl, REFRESH, { t: `bogus-${i}-${Date.now()}` }))[0]);
    expect(seen.slice(0, 3)).toEqual(['UNAUTHENTICATED', 'UNAUTHENTICATED', 'UNAUTHENTICATED']);
    expect(seen[3]).toBe('RATE_LIMITED');
  });
});
