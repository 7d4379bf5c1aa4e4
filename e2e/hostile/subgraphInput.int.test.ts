/**
 * The subgraph-side classes of hostile input, each asked of the subgraph that owns the field with
 * a router-signed context (real Postgres): invalid DateTime values, NUL characters in stored
 * strings, non-UUID ids in the auth subgraph and cursors that decode to the wrong types. Each
 * answers a documented code naming the field, and nothing is written.
 */
import { randomUUID } from 'node:crypto';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { Membership } from '@lt/context';
import { withTenant } from '@lt/db';
import { createLogger } from '@lt/logger';
import { startStack, type Stack } from '@lt/app';
import { createTestTenant, subgraphClient, testEnv, type TestTenant } from '@lt/testing';

let stack: Stack;
let tenant: TestTenant;
let admin: Membership;
let member: Membership;
const platform: Membership = {
  userId: randomUUID(),
  sub: randomUUID(),
  tenantId: null,
  role: 'PLATFORM_ADMIN',
  tenantStatus: null,
};
let sessionId: string;
let sinkId: string;

type Sub = 'auth' | 'tenant' | 'location' | 'streaming';
const ask = (sub: Sub, who: Membership, query: string, variables: Record<string, unknown> = {}) =>
  subgraphClient(stack.subgraphUrls[sub], testEnv().contextSecret)(who, query, variables);
const errorsOf = (r: { errors?: { extensions?: Record<string, unknown> }[] }) =>
  (r.errors ?? []).map((e) => ({ code: e.extensions?.['code'], field: e.extensions?.['field'] }));

async function tenantRows(): Promise<Record<string, number>> {
  return withTenant(stack.db, tenant.id, async (tx) => {
    const out: Record<string, number> = {};
    for (const t of ['tenants', 'users', 'invitations', 'location_sessions', 'location_points', 'stream_sinks'])
      out[t] = Number((await tx.$queryRawUnsafe<{ n: bigint }[]>(`SELECT count(*) AS n FROM ${t}`))[0]!.n);
    out['tenantName'] = (await tx.tenant.findUniqueOrThrow({ where: { id: tenant.id } })).name.length;
    return out;
  });
}

async function user(role: 'TENANT_ADMIN' | 'MEMBER'): Promise<Membership> {
  const sub = randomUUID();
  const row = await withTenant(stack.db, tenant.id, (tx) =>
    tx.user.create({
      data: { cognitoSub: sub, email: `${sub}@example.test`, tenantId: tenant.id, role },
      select: { id: true },
    }),
  );
  return { userId: row.id, sub, tenantId: tenant.id, role, tenantStatus: 'ACTIVE' };
}

const UUID = '8f9b9d6e-1f0a-4c1e-9d55-3a1c2b4e5f60';
const b64 = (v: unknown) => Buffer.from(JSON.stringify(v)).toString('base64url');
const BAD_CURSORS = [
  'WyJnYXJiYWdlIiwieCJd',
  b64([1, 2]),
  b64(['0000-01-01T00:00:00Z', UUID]),
  b64(['2026-01-01T00:00:00Z', 'x']),
];

beforeAll(async () => {
  const env = testEnv();
  stack = await startStack({
    databaseUrl: env.databaseUrl,
    contextSecret: env.contextSecret,
    log: createLogger({ level: 'silent' }),
  });
  tenant = await createTestTenant(stack.db, 'subinput');
  [admin, member] = await Promise.all([user('TENANT_ADMIN'), user('MEMBER')]);
  const s = await ask('location', member, 'mutation { startLocationSession(input: { deviceId: "ok" }) { id } }');
  sessionId = (s.data as { startLocationSession: { id: string } }).startLocationSession.id;
  const k = await ask(
    'streaming',
    admin,
    'mutation { createStreamSink(input: { name: "ok", url: "http://127.0.0.1:9/x", topics: [SESSION_EVENTS] }) { sink { id } } }',
  );
  sinkId = (k.data as { createStreamSink: { sink: { id: string } } }).createStreamSink.sink.id;
});
afterAll(() => stack?.stop());

let before: Record<string, number>;
beforeAll(async () => {
  before = await tenantRows();
});
afterAll(async () => {
  // Nothing any of the requests below sent was written.
  if (stack) expect(await tenantRows()).toEqual(before);
});

describe('invalid DateTime values: BAD_USER_INPUT naming the field, as variable and as literal', () => {
  const RECORD = 'mutation($s: ID!, $l: LocationInput!) { recordLocation(sessionId: $s, location: $l) { id } }';
  it.each(['now', '2026-13-01T00:00:00Z', '+275760-09-13T00:00:00Z', '0000-01-01T00:00:00Z', 20_260_101])(
    '%j',
    async (at) => {
      const asVariable = await ask('location', member, RECORD, {
        s: sessionId,
        l: { latitude: 1, longitude: 1, recordedAt: at },
      });
      expect(errorsOf(asVariable)).toEqual([{ code: 'BAD_USER_INPUT', field: 'location.recordedAt' }]);
      const literal = `mutation { recordLocations(sessionId: "${sessionId}", locations: [{ latitude: 1, longitude: 1, recordedAt: "2026-01-01T00:00:00Z" }, { latitude: 1, longitude: 1, recordedAt: ${JSON.stringify(at)} }]) { accepted } }`;
      expect(errorsOf(await ask('location', member, literal))).toEqual([
        { code: 'BAD_USER_INPUT', field: 'locations[1].recordedAt' },
      ]);
      const event = await ask(
        'location',
        member,
        'query($at: DateTime!) { liveSessionEvent(sessionId: "' + sessionId + '", type: STARTED, at: $at) { at } }',
        { at },
      );
      expect(errorsOf(event)).toEqual([{ code: 'BAD_USER_INPUT', field: 'at' }]);
    },
  );
});

describe('a NUL character in a stored string: BAD_USER_INPUT naming the field', () => {
  it.each<[string, Sub, () => Membership, string, () => Record<string, unknown>, string]>([
    [
      'deviceId',
      'location',
      () => member,
      'mutation($i: StartLocationSessionInput) { startLocationSession(input: $i) { id } }',
      () => ({ i: { deviceId: 'van\u00007' } }),
      'input.deviceId',
    ],
    [
      'idempotencyKey',
      'location',
      () => member,
      'mutation($s: ID!, $l: [LocationInput!]!) { recordLocations(sessionId: $s, locations: $l) { accepted } }',
      () => ({
        s: sessionId,
        l: [{ latitude: 1, longitude: 1, recordedAt: new Date().toISOString(), idempotencyKey: 'k\u0000' }],
      }),
      'locations[0].idempotencyKey',
    ],
    [
      'sink name',
      'streaming',
      () => admin,
      'mutation($i: CreateStreamSinkInput!) { createStreamSink(input: $i) { secret } }',
      () => ({ i: { name: 'a\u0000', url: 'http://127.0.0.1:9/x', topics: ['SESSION_EVENTS'] } }),
      'input.name',
    ],
    [
      'sink name (update)',
      'streaming',
      () => admin,
      'mutation($id: ID!, $i: UpdateStreamSinkInput!) { updateStreamSink(id: $id, input: $i) { id } }',
      () => ({ id: sinkId, i: { name: '\u0000' } }),
      'input.name',
    ],
    [
      'tenant name',
      'tenant',
      () => admin,
      'mutation($id: ID!, $i: UpdateTenantInput!) { updateTenant(id: $id, input: $i) { id } }',
      () => ({ id: tenant.id, i: { name: 'x\u0000' } }),
      'input.name',
    ],
    [
      'tenant name (create)',
      'tenant',
      () => platform,
      'mutation($i: CreateTenantInput!) { createTenant(input: $i) { id } }',
      () => ({ i: { name: 'x\u0000', slug: `nul-${randomUUID().slice(0, 8)}` } }),
      'input.name',
    ],
    [
      'invitation e-mail',
      'auth',
      () => admin,
      'mutation($i: InviteUserInput!) { inviteUser(input: $i) { code } }',
      () => ({ i: { email: 'a\u0000@example.test', role: 'MEMBER' } }),
      'input.email',
    ],
    [
      'user id',
      'auth',
      () => admin,
      'mutation($u: ID!) { removeUser(userId: $u) }',
      () => ({ u: `${UUID}\u0000` }),
      'userId',
    ],
  ])('%s', async (_what, sub, who, query, variables, field) => {
    expect(errorsOf(await ask(sub, who(), query, variables()))).toEqual([{ code: 'BAD_USER_INPUT', field }]);
  });
});

describe('non-UUID ids in the auth subgraph: NOT_FOUND naming the field, as in every subgraph', () => {
  it.each(['-'.repeat(36), 'abc', '1'])('%j', async (id) => {
    expect(
      errorsOf(
        await ask('auth', admin, 'mutation($u: ID!) { changeUserRole(userId: $u, role: MEMBER) { id } }', { u: id }),
      ),
    ).toEqual([{ code: 'NOT_FOUND', field: 'userId' }]);
    expect(errorsOf(await ask('auth', admin, 'mutation($u: ID!) { removeUser(userId: $u) }', { u: id }))).toEqual([
      { code: 'NOT_FOUND', field: 'userId' },
    ]);
    const invite = await ask('auth', platform, 'mutation($i: InviteUserInput!) { inviteUser(input: $i) { code } }', {
      i: { email: `${randomUUID()}@example.test`, role: 'MEMBER', tenantId: id },
    });
    expect(errorsOf(invite)).toEqual([{ code: 'NOT_FOUND', field: 'input.tenantId' }]);
  });
});

describe('cursors that decode to the wrong types: BAD_USER_INPUT field `after`, on every connection', () => {
  it.each(BAD_CURSORS)('%s', async (after) => {
    const cases: [Sub, Membership, string, Record<string, unknown>][] = [
      ['location', member, 'query($a: String) { locationSessions(after: $a) { edges { cursor } } }', {}],
      [
        'location',
        member,
        'query($a: String, $id: ID!) { locationSession(id: $id) { points(after: $a) { edges { cursor } } } }',
        { id: sessionId },
      ],
      [
        'streaming',
        admin,
        'query($a: String, $id: ID!) { streamSink(id: $id) { deliveries(after: $a) { edges { cursor } } } }',
        { id: sinkId },
      ],
      ['tenant', platform, 'query($a: String) { tenants(after: $a) { edges { cursor } } }', {}],
      [
        'auth',
        admin,
        'query($a: String, $r: [_Any!]!) { _entities(representations: $r) { ... on Tenant { users(after: $a) { totalCount } } } }',
        { r: [{ __typename: 'Tenant', id: tenant.id }] },
      ],
    ];
    for (const [sub, who, query, vars] of cases)
      expect(errorsOf(await ask(sub, who, query, { ...vars, a: after })), query).toEqual([
        { code: 'BAD_USER_INPUT', field: 'after' },
      ]);
  });
});
