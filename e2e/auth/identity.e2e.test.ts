/** The router verifies Cognito access tokens and resolves memberships. */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createTestTenant } from '@lt/testing';
import { codes, gql } from '../support/graphql';
import { bearer, createUserWithToken, startAuthedStack, type AuthedStack } from '../support/identity';

let stack: AuthedStack;

beforeAll(async () => {
  stack = await startAuthedStack();
});
afterAll(async () => {
  await stack?.stop();
});

describe('createUserWithToken', () => {
  it('gives tokens the router accepts, as each role', async () => {
    const tenant = await createTestTenant(stack.db);
    for (const role of ['TENANT_ADMIN', 'MEMBER'] as const) {
      const user = await createUserWithToken(stack, { tenantId: tenant.id, role });
      const auth = await stack.routerIdentity!.authenticator.authenticate(`Bearer ${user.accessToken}`);
      expect(auth?.membership).toEqual({
        userId: user.userId,
        sub: user.sub,
        tenantId: tenant.id,
        role,
        tenantStatus: 'ACTIVE',
      });
    }
    const admin = await createUserWithToken(stack, { role: 'PLATFORM_ADMIN' });
    const auth = await stack.routerIdentity!.authenticator.authenticate(`Bearer ${admin.accessToken}`);
    expect(auth?.membership).toMatchObject({ role: 'PLATFORM_ADMIN', tenantId: null, tenantStatus: null });
  });

  it('a bad token is refused at the router with UNAUTHENTICATED', async () => {
    const tenant = await createTestTenant(stack.db);
    const user = await createUserWithToken(stack, { tenantId: tenant.id, role: 'MEMBER' });
    const r = await gql(stack.routerUrl, '{ __typename }', {}, { authorization: `Bearer ${user.accessToken}x` });
    expect(codes(r)).toEqual(['UNAUTHENTICATED']);
    const ok = await gql(stack.routerUrl, '{ __typename }', {}, bearer(user));
    expect(ok.errors).toBeUndefined();
  });
});
