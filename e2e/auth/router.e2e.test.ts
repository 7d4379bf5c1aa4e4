/**
 * Router-side enforcement: @authenticated / @requiresScopes before planning, operation
 * limits, body size, Sandbox only outside production. Subgraphs check again.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { signContext } from '@lt/context';
import { withTenant } from '@lt/db';
import { createTestTenant, testEnv } from '@lt/testing';
import { codes, gql } from '../support/graphql';
import {
  bearer,
  createUserWithToken,
  startAuthedStack,
  testEmail,
  type AuthedStack,
  type TestUser,
} from '../support/identity';

let stack: AuthedStack;
let admin: TestUser;
let member: TestUser;
beforeAll(async () => {
  stack = await startAuthedStack();
  const tenant = await createTestTenant(stack.db);
  admin = await createUserWithToken(stack, { tenantId: tenant.id, role: 'TENANT_ADMIN' });
  member = await createUserWithToken(stack, { tenantId: tenant.id, role: 'MEMBER' });
});
afterAll(async () => {
  await stack?.stop();
});

const USERS = `{ me { id tenant { id users { totalCount } } } }`;

describe('@authenticated / @requiresScopes at the router', () => {
  it('anonymous: an @authenticated root field is null with UNAUTHORIZED_FIELD_OR_TYPE', async () => {
    const r = await gql(stack.routerUrl, '{ me { id } }');
    expect(r.data).toEqual({ me: null });
    expect(r.errors).toEqual([
      expect.objectContaining({ path: ['me'], extensions: { code: 'UNAUTHORIZED_FIELD_OR_TYPE' } }),
    ]);
  });

  it('a MEMBER loses only the fields it may not see; the rest is answered', async () => {
    const r = await gql<{ me: { id: string; tenant: { id: string } | null } }>(
      stack.routerUrl,
      USERS,
      {},
      bearer(member),
    );
    expect(r.data!.me.id).toBe(member.userId);
    // Tenant.users is non-null (UserConnection!): its null goes up to the nullable `tenant`,
    // as GraphQL execution does for a field error. Nothing of the removed field is fetched.
    expect(r.data!.me.tenant).toBeNull();
    expect(r.errors).toEqual([
      expect.objectContaining({ path: ['me', 'tenant', 'users'], extensions: { code: 'UNAUTHORIZED_FIELD_OR_TYPE' } }),
    ]);
    const partial = await gql<{ me: { id: string; tenant: { id: string } } }>(
      stack.routerUrl,
      '{ me { id tenant { id } } }',
      {},
      bearer(member),
    );
    expect(partial.errors).toBeUndefined();
    expect(partial.data!.me.tenant.id).toBe(member.tenantId);
  });

  it('query plans are not shared across callers with different rights', async () => {
    const a1 = await gql<{ me: { tenant: { users: { totalCount: number } } } }>(
      stack.routerUrl,
      USERS,
      {},
      bearer(admin),
    );
    expect(a1.errors).toBeUndefined();
    expect(a1.data!.me.tenant.users.totalCount).toBeGreaterThanOrEqual(2);
    const m = await gql(stack.routerUrl, USERS, {}, bearer(member));
    expect(codes(m)).toEqual(['UNAUTHORIZED_FIELD_OR_TYPE']);
    const a2 = await gql(stack.routerUrl, USERS, {}, bearer(admin));
    expect(a2.errors).toBeUndefined();
  });

  it('a MEMBER calling an admin mutation gets UNAUTHORIZED_FIELD_OR_TYPE and nothing runs', async () => {
    const email = testEmail('never');
    const r = await gql(
      stack.routerUrl,
      'mutation($i: InviteUserInput!) { inviteUser(input: $i) { code } }',
      { i: { email, role: 'MEMBER' } },
      bearer(member),
    );
    // inviteUser is non-null (Invitation!): the null propagates to `data`, as execution would.
    expect(r.data).toBeNull();
    expect(codes(r)).toEqual(['UNAUTHORIZED_FIELD_OR_TYPE']);
    const invitations = await withTenant(stack.db, member.tenantId!, (tx) => tx.invitation.count({ where: { email } }));
    expect(invitations).toBe(0);
  });

  it('the subgraph checks again: a signed MEMBER context straight to the auth subgraph is FORBIDDEN', async () => {
    const r = await gql(
      stack.subgraphUrls.auth,
      'mutation($i: InviteUserInput!) { inviteUser(input: $i) { code } }',
      { i: { email: testEmail(), role: 'MEMBER' } },
      {
        'x-router-context': signContext(
          {
            membership: {
              userId: member.userId,
              sub: member.sub,
              tenantId: member.tenantId,
              role: 'MEMBER',
              tenantStatus: 'ACTIVE',
            },
            requestId: 'r',
            tokenId: null,
            tokenExpiresAt: null,
            clientAddress: null,
          },
          { secret: testEnv().contextSecret },
        ),
      },
    );
    expect(codes(r)).toEqual(['FORBIDDEN']);
  });
});

describe('request errors carry the documented codes', () => {
  const post = async (body: string) => {
    const res = await fetch(stack.routerUrl, {
      method: 'POST',
      headers: { 'content-type': 'application/json' },
      body,
      signal: AbortSignal.timeout(15_000),
    });
    const json = (await res.json()) as { errors?: { extensions?: { code?: string } }[] };
    return { status: res.status, codes: (json.errors ?? []).map((e) => e.extensions?.code) };
  };

  it('GRAPHQL_PARSE_FAILED, GRAPHQL_VALIDATION_FAILED, PERSISTED_QUERY_NOT_SUPPORTED, BAD_REQUEST', async () => {
    expect(await post(JSON.stringify({ query: '{ me { id' }))).toEqual({
      status: 400,
      codes: ['GRAPHQL_PARSE_FAILED'],
    });
    expect(await post(JSON.stringify({ query: '{ nope }' }))).toEqual({
      status: 400,
      codes: ['GRAPHQL_VALIDATION_FAILED'],
    });
    // Persisted queries are off: a hash alone is refused with a code that says to send the query text.
    const apq = { persistedQuery: { version: 1, sha256Hash: 'a'.repeat(64) } };
    expect((await post(JSON.stringify({ extensions: apq }))).codes).toEqual(['PERSISTED_QUERY_NOT_SUPPORTED']);
    expect(await post('{"query": ')).toEqual({ status: 400, codes: ['BAD_REQUEST'] });
  });
});

describe('limits', () => {
  it('depth', async () => {
    const deep = `{ me { tenant { users { edges { node { tenant { users { edges { node { tenant { users { edges { node { id } } } } } } } } } } } } } }`;
    const r = await gql(stack.routerUrl, deep, {}, bearer(admin));
    expect(r.errors?.[0]?.extensions).toMatchObject({ code: 'OPERATION_LIMIT_EXCEEDED', limit: 'depth' });
    expect(r.status).toBe(400);
  });

  it('aliases', async () => {
    const q = `{ me { ${Array.from({ length: 31 }, (_, i) => `a${i}: id`).join(' ')} } }`;
    const r = await gql(stack.routerUrl, q, {}, bearer(admin));
    expect(r.errors?.[0]?.extensions).toMatchObject({ code: 'OPERATION_LIMIT_EXCEEDED', limit: 'aliases' });
  });

  it('root fields', async () => {
    const q = `{ ${Array.from({ length: 21 }, (_, i) => `f${i}: __typename`).join(' ')} }`;
    const r = await gql(stack.routerUrl, q);
    expect(r.errors?.[0]?.extensions).toMatchObject({ code: 'OPERATION_LIMIT_EXCEEDED' });
  });

  it('body size', async () => {
    const r = await gql(stack.routerUrl, `{ __typename }`, { pad: 'x'.repeat(1_100_000) });
    expect(r.status).toBe(413);
    expect(codes(r)).toEqual(['OPERATION_LIMIT_EXCEEDED']);
  });
});

describe('landing page', () => {
  it('serves Apollo Sandbox to browsers outside production', async () => {
    const res = await fetch(stack.routerUrl, { headers: { accept: 'text/html' }, signal: AbortSignal.timeout(5_000) });
    expect(res.status).toBe(200);
    expect(await res.text()).toMatch(/sandbox|apollo/i);
  });
});
