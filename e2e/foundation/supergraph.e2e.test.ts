/** The composed supergraph is served by the router; subgraphs accept only router-signed calls. */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { signContext } from '@lt/context';
import { createLogger } from '@lt/logger';
import { startStack, type Stack } from '@lt/app';
import { testEnv } from '@lt/testing';
import { codes, gql } from '../support/graphql';

let stack: Stack;

beforeAll(async () => {
  const env = testEnv();
  stack = await startStack({
    databaseUrl: env.databaseUrl,
    contextSecret: env.contextSecret,
    log: createLogger({ level: 'silent' }),
  });
});
afterAll(async () => {
  await stack?.stop();
});

describe('router', () => {
  it('serves the composed supergraph (fields of all four subgraphs)', async () => {
    const r = await gql<{
      __schema: { queryType: { fields: { name: string }[] }; subscriptionType: { fields: { name: string }[] } | null };
    }>(stack.routerUrl, '{ __schema { queryType { fields { name } } subscriptionType { fields { name } } } }');
    expect(r.errors).toBeUndefined();
    const names = r.data!.__schema.queryType.fields.map((f) => f.name);
    expect(names).toEqual(
      expect.arrayContaining([
        'me',
        'tenant',
        'myTenant',
        'tenants',
        'locationSession',
        'locationSessions',
        'streamSinks',
        'streamingStatus',
      ]),
    );
    expect(r.data!.__schema.subscriptionType?.fields.map((f) => f.name).sort()).toEqual([
      'geofenceEvents',
      'locationUpdated',
      'sessionEvents',
    ]);
  });

  it('refuses a GET mutation / simple-request CSRF attempt', async () => {
    const res = await fetch(`${stack.routerUrl}?query=${encodeURIComponent('{ __typename }')}`, {
      signal: AbortSignal.timeout(5_000),
    });
    expect(res.status).toBe(400);
  });
});

describe('subgraphs refuse anything that did not come through the router', () => {
  for (const name of ['auth', 'tenant', 'location', 'streaming'] as const) {
    it(`${name}: no signature → 401`, async () => {
      const r = await gql(
        stack.subgraphUrls[name],
        '{ __typename }',
        {},
        { 'x-tenant-id': '00000000-0000-0000-0000-000000000001', 'x-user-role': 'PLATFORM_ADMIN' },
      );
      expect(r.status).toBe(401);
      expect(codes(r)).toEqual(['UNAUTHENTICATED']);
      expect(r.data).toBeUndefined();
    });

    it(`${name}: signature made with another secret → 401`, async () => {
      const forged = signContext(
        {
          membership: { userId: 'u', sub: 's', tenantId: null, role: 'PLATFORM_ADMIN', tenantStatus: null },
          requestId: 'r',
          tokenId: null,
          tokenExpiresAt: null,
          clientAddress: null,
        },
        { secret: 'not-the-router-secret-not-the-router-secret' },
      );
      const r = await gql(stack.subgraphUrls[name], '{ __typename }', {}, { 'x-router-context': forged });
      expect(r.status).toBe(401);
    });
  }

  it('a correctly signed call is accepted (the router path works)', async () => {
    const r = await gql(
      stack.subgraphUrls.tenant,
      '{ _service { sdl } }',
      {},
      {
        'x-router-context': signContext(
          { membership: null, requestId: 'r1', tokenId: null, tokenExpiresAt: null, clientAddress: null },
          { secret: testEnv().contextSecret },
        ),
      },
    );
    expect(r.status).toBe(200);
    expect(JSON.stringify(r.data)).toContain('createTenant');
  });
});
