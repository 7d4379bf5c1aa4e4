/**
 * The tenant subgraph on its own, called with router-signed contexts: roles, cross-tenant
 * NOT_FOUND, validation, slug conflicts, outbox atomicity, suspension announcements, pagination and
 * entity references. The same rules through the router: e2e/tenant/.
 */
import { randomUUID } from 'node:crypto';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { withPlatform } from '@lt/db';
import { uniqueName } from '@lt/testing';
import { codes, fields, startHarness, type Call, type GqlResult, type Harness } from './harness';

const TENANT = 'id name slug status createdAt updatedAt';
const CREATE = `mutation($input: CreateTenantInput!) { createTenant(input: $input) { ${TENANT} } }`;
const UPDATE = `mutation($id: ID!, $input: UpdateTenantInput!) { updateTenant(id: $id, input: $input) { ${TENANT} } }`;
const GET = `query($id: ID!) { tenant(id: $id) { ${TENANT} } }`;
const MINE = `{ myTenant { ${TENANT} } }`;
const SUSPEND = `mutation($id: ID!) { suspendTenant(id: $id) { id status } }`;
const REACTIVATE = `mutation($id: ID!) { reactivateTenant(id: $id) { id status } }`;
const LIST = `query($first: Int, $after: String) {
  tenants(first: $first, after: $after) { totalCount edges { cursor node { id createdAt } } pageInfo { hasNextPage endCursor } }
}`;
const ENTITIES = `query($reps: [_Any!]!) { _entities(representations: $reps) { ... on Tenant { id name } } }`;

interface TenantOut {
  id: string;
  name: string;
  slug: string;
  status: 'ACTIVE' | 'SUSPENDED';
  createdAt: string;
  updatedAt: string;
}

let h: Harness;
let platform: Call;

const slug = (): string => uniqueName('it').toLowerCase();

async function create(name = 'Acme'): Promise<TenantOut> {
  const r = await platform<{ createTenant: TenantOut }>(CREATE, { input: { name, slug: slug() } });
  expect(r.errors).toBeUndefined();
  return r.data!.createTenant;
}

beforeAll(async () => {
  h = await startHarness();
  platform = h.as('PLATFORM_ADMIN', null);
});
afterAll(async () => {
  await h?.stop();
});

describe('createTenant', () => {
  it('creates an ACTIVE tenant with a trimmed name and writes tenant.created.v1 in the outbox', async () => {
    const s = slug();
    const r = await platform<{ createTenant: TenantOut }>(CREATE, { input: { name: '  Acme Corp  ', slug: s } });
    expect(r.errors).toBeUndefined();
    const t = r.data!.createTenant;
    expect(t).toMatchObject({ name: 'Acme Corp', slug: s, status: 'ACTIVE' });
    expect(new Date(t.createdAt).getTime()).toBeGreaterThan(Date.now() - 60_000);
    const events = await h.tenantEvents(t.id);
    expect(events).toEqual([
      {
        type: 'tenant.created.v1',
        key: t.id,
        payload: { id: t.id, name: 'Acme Corp', slug: s, status: 'ACTIVE' },
      },
    ]);
  });

  it('refuses a taken slug with CONFLICT on field slug and leaves no row or event behind', async () => {
    const first = await create();
    const r = await platform(CREATE, { input: { name: 'Copycat', slug: first.slug } });
    expect(codes(r)).toEqual(['CONFLICT']);
    expect(fields(r)).toEqual(['slug']);
    expect(r.data).toBeNull();
    const holders = await withPlatform(h.db, (tx) => tx.tenant.findMany({ where: { slug: first.slug } }));
    expect(holders.map((t) => t.name)).toEqual(['Acme']);
    expect(await h.tenantEvents(first.id)).toHaveLength(1);
  });

  it.each([
    [{ name: 'Acme', slug: 'UPPER-case' }, 'slug'],
    [{ name: 'Acme', slug: 'ab' }, 'slug'],
    [{ name: 'Acme', slug: 'x'.repeat(41) }, 'slug'],
    [{ name: 'Acme', slug: 'under_score' }, 'slug'],
    [{ name: '   ', slug: 'valid-slug-abc' }, 'name'],
    [{ name: 'n'.repeat(101), slug: 'valid-slug-abc' }, 'name'],
  ])('refuses %j with BAD_USER_INPUT on %s', async (input, field) => {
    const r = await platform(CREATE, { input });
    expect(codes(r)).toEqual(['BAD_USER_INPUT']);
    expect(fields(r)).toEqual([field]);
  });

  it('is PLATFORM_ADMIN only', async () => {
    const own = await create();
    for (const role of ['TENANT_ADMIN', 'MEMBER'] as const) {
      const r = await h.as(role, own.id)(CREATE, { input: { name: 'Mine', slug: slug() } });
      expect(codes(r)).toEqual(['FORBIDDEN']);
    }
    const suspended = await h.as(
      'TENANT_ADMIN',
      own.id,
      'SUSPENDED',
    )(CREATE, { input: { name: 'Mine', slug: slug() } });
    expect(codes(suspended)).toEqual(['UNAUTHENTICATED']);
  });
});

describe('reading tenants', () => {
  let a: TenantOut;
  let b: TenantOut;
  beforeAll(async () => {
    a = await create('Tenant A');
    b = await create('Tenant B');
  });

  it('a TENANT_ADMIN and a MEMBER read their own tenant by id and as myTenant', async () => {
    for (const role of ['TENANT_ADMIN', 'MEMBER'] as const) {
      const call = h.as(role, a.id);
      const byId = await call<{ tenant: TenantOut }>(GET, { id: a.id });
      expect(byId.errors).toBeUndefined();
      expect(byId.data!.tenant).toEqual(a);
      const mine = await call<{ myTenant: TenantOut }>(MINE);
      expect(mine.data!.myTenant).toEqual(a);
    }
  });

  it('another tenant by id is NOT_FOUND, exactly like an id that does not exist', async () => {
    for (const role of ['TENANT_ADMIN', 'MEMBER'] as const) {
      const call = h.as(role, a.id);
      const other = await call(GET, { id: b.id });
      const missing = await call(GET, { id: randomUUID() });
      const garbage = await call(GET, { id: 'not-a-uuid' });
      for (const r of [other, missing, garbage]) {
        expect(codes(r)).toEqual(['NOT_FOUND']);
        expect(r.errors![0]!.message).toBe('Tenant not found');
      }
      expect(JSON.stringify(other)).not.toContain(b.name);
    }
  });

  it('a PLATFORM_ADMIN reads any tenant; myTenant is null for it; unknown ids are NOT_FOUND', async () => {
    const r = await platform<{ tenant: TenantOut }>(GET, { id: b.id });
    expect(r.data!.tenant).toEqual(b);
    expect((await platform<{ myTenant: null }>(MINE)).data).toEqual({ myTenant: null });
    expect(codes(await platform(GET, { id: randomUUID() }))).toEqual(['NOT_FOUND']);
  });

  it('tenants is PLATFORM_ADMIN only', async () => {
    for (const role of ['TENANT_ADMIN', 'MEMBER'] as const) {
      const r = await h.as(role, a.id)(LIST, { first: 5 });
      expect(codes(r)).toEqual(['FORBIDDEN']);
      expect(r.data).toBeNull();
    }
  });

  it('tenants pages newest first without repeats or gaps', async () => {
    const mine = [await create('P1'), await create('P2'), await create('P3')];
    const seen: { id: string; createdAt: string }[] = [];
    let after: string | null = null;
    // Other tests create tenants concurrently (always newer than ours): walk until all three are seen.
    for (let page = 0; page < 50 && !mine.every((t) => seen.some((s) => s.id === t.id)); page++) {
      const r: GqlResult<{ tenants: ConnectionOut }> = await platform(LIST, { first: 2, after });
      expect(r.errors).toBeUndefined();
      const c = r.data!.tenants;
      expect(c.edges.length).toBeLessThanOrEqual(2);
      expect(c.totalCount).toBeGreaterThanOrEqual(3);
      seen.push(...c.edges.map((e) => e.node));
      expect(c.pageInfo.endCursor).toBe(c.edges.at(-1)?.cursor ?? null);
      if (!c.pageInfo.hasNextPage) break;
      after = c.pageInfo.endCursor;
    }
    const ids = seen.map((s) => s.id);
    expect(new Set(ids).size).toBe(ids.length);
    const positions = mine.map((t) => ids.indexOf(t.id));
    expect(positions.every((p) => p >= 0)).toBe(true);
    // Newest first: P3 before P2 before P1, and the whole walk is sorted by creation time.
    expect(positions).toEqual([...positions].sort((x, y) => y - x));
    const times = seen.map((s) => new Date(s.createdAt).getTime());
    expect(times).toEqual([...times].sort((x, y) => y - x));
  });

  it('first: 0 returns no edges but tells whether tenants exist', async () => {
    const r = await platform<{ tenants: ConnectionOut }>(LIST, { first: 0 });
    expect(r.data!.tenants.edges).toEqual([]);
    expect(r.data!.tenants.pageInfo).toEqual({ hasNextPage: true, endCursor: null });
  });

  it('refuses a malformed cursor and an out-of-range first', async () => {
    const bad = await platform(LIST, { first: 2, after: 'bm90IGEgY3Vyc29y' });
    expect(codes(bad)).toEqual(['BAD_USER_INPUT']);
    expect(fields(bad)).toEqual(['after']);
    const tooMany = await platform(LIST, { first: 1000 });
    expect(codes(tooMany)).toEqual(['BAD_USER_INPUT']);
    expect(fields(tooMany)).toEqual(['first']);
  });

  it('Tenant references resolve only for the caller’s own tenant (any for a PLATFORM_ADMIN)', async () => {
    const reps = [
      { __typename: 'Tenant', id: a.id },
      { __typename: 'Tenant', id: b.id },
      { __typename: 'Tenant', id: a.id },
      { __typename: 'Tenant', id: 'not-a-uuid' },
    ];
    const asA = await h.as('MEMBER', a.id)<{ _entities: unknown[] }>(ENTITIES, { reps });
    expect(asA.errors).toBeUndefined();
    expect(asA.data!._entities).toEqual([{ id: a.id, name: a.name }, null, { id: a.id, name: a.name }, null]);
    const asPlatform = await platform<{ _entities: unknown[] }>(ENTITIES, { reps });
    expect(asPlatform.data!._entities).toEqual([
      { id: a.id, name: a.name },
      { id: b.id, name: b.name },
      { id: a.id, name: a.name },
      null,
    ]);
  });
});

interface ConnectionOut {
  totalCount: number;
  edges: { cursor: string; node: { id: string; createdAt: string } }[];
  pageInfo: { hasNextPage: boolean; endCursor: string | null };
}

describe('updateTenant', () => {
  it('its TENANT_ADMIN renames it and changes the slug; one tenant.updated.v1 names the changed fields', async () => {
    const t = await create('Before');
    const s = slug();
    const r = await h.as('TENANT_ADMIN', t.id)<{ updateTenant: TenantOut }>(UPDATE, {
      id: t.id,
      input: { name: ' After ', slug: s },
    });
    expect(r.errors).toBeUndefined();
    expect(r.data!.updateTenant).toMatchObject({ id: t.id, name: 'After', slug: s, status: 'ACTIVE' });
    expect(new Date(r.data!.updateTenant.updatedAt).getTime()).toBeGreaterThanOrEqual(new Date(t.updatedAt).getTime());
    const events = await h.tenantEvents(t.id);
    expect(events.map((e) => e.type)).toEqual(['tenant.created.v1', 'tenant.updated.v1']);
    expect(events[1]!.payload).toEqual({
      id: t.id,
      name: 'After',
      slug: s,
      status: 'ACTIVE',
      changed: ['name', 'slug'],
    });
  });

  it('an update that changes nothing writes no event', async () => {
    const t = await create('Same');
    const r = await h.as('TENANT_ADMIN', t.id)(UPDATE, { id: t.id, input: { name: 'Same', slug: t.slug } });
    expect(r.errors).toBeUndefined();
    expect((await h.tenantEvents(t.id)).map((e) => e.type)).toEqual(['tenant.created.v1']);
  });

  it('a slug conflict fails the whole update (name unchanged) and writes no event', async () => {
    const taken = await create('Taken');
    const t = await create('Mine');
    for (const call of [h.as('TENANT_ADMIN', t.id), platform]) {
      const r = await call(UPDATE, { id: t.id, input: { name: 'Renamed', slug: taken.slug } });
      expect(codes(r)).toEqual(['CONFLICT']);
      expect(fields(r)).toEqual(['slug']);
    }
    const after = await platform<{ tenant: TenantOut }>(GET, { id: t.id });
    expect(after.data!.tenant).toEqual(t);
    expect((await h.tenantEvents(t.id)).map((e) => e.type)).toEqual(['tenant.created.v1']);
    expect((await h.tenantEvents(taken.id)).map((e) => e.type)).toEqual(['tenant.created.v1']);
  });

  it('refuses invalid input with the field named', async () => {
    const t = await create();
    const r = await h.as('TENANT_ADMIN', t.id)(UPDATE, { id: t.id, input: { slug: 'Not Valid' } });
    expect(codes(r)).toEqual(['BAD_USER_INPUT']);
    expect(fields(r)).toEqual(['slug']);
  });

  it('a TENANT_ADMIN updating another tenant gets NOT_FOUND and changes nothing; a MEMBER is FORBIDDEN', async () => {
    const mine = await create('Mine');
    const other = await create('Other');
    const r = await h.as('TENANT_ADMIN', mine.id)(UPDATE, { id: other.id, input: { name: 'Hijacked' } });
    expect(codes(r)).toEqual(['NOT_FOUND']);
    const member = await h.as('MEMBER', mine.id)(UPDATE, { id: mine.id, input: { name: 'Nope' } });
    expect(codes(member)).toEqual(['FORBIDDEN']);
    expect((await platform<{ tenant: TenantOut }>(GET, { id: other.id })).data!.tenant.name).toBe('Other');
    expect((await h.tenantEvents(other.id)).map((e) => e.type)).toEqual(['tenant.created.v1']);
  });

  it('a PLATFORM_ADMIN updates any tenant', async () => {
    const t = await create('Any');
    const r = await platform<{ updateTenant: TenantOut }>(UPDATE, { id: t.id, input: { name: 'Renamed by platform' } });
    expect(r.data!.updateTenant.name).toBe('Renamed by platform');
    expect(codes(await platform(UPDATE, { id: randomUUID(), input: { name: 'x' } }))).toEqual(['NOT_FOUND']);
  });
});

describe('suspendTenant / reactivateTenant', () => {
  it('suspend and reactivate: status, one outbox event each, announced on the identity bus after commit', async () => {
    const t = await create('Suspendable');
    const before = h.published.length;
    const s = await platform<{ suspendTenant: { id: string; status: string } }>(SUSPEND, { id: t.id });
    expect(s.data!.suspendTenant).toEqual({ id: t.id, status: 'SUSPENDED' });
    expect(h.published.slice(before)).toEqual([{ type: 'tenant.status', tenantId: t.id, status: 'SUSPENDED' }]);

    // Idempotent: suspending again changes nothing and writes no second event (but re-announces).
    const again = await platform<{ suspendTenant: { status: string } }>(SUSPEND, { id: t.id });
    expect(again.data!.suspendTenant.status).toBe('SUSPENDED');

    const r = await platform<{ reactivateTenant: { id: string; status: string } }>(REACTIVATE, { id: t.id });
    expect(r.data!.reactivateTenant).toEqual({ id: t.id, status: 'ACTIVE' });
    expect(h.published.slice(before).filter((e) => e.type === 'tenant.status' && e.tenantId === t.id)).toEqual([
      { type: 'tenant.status', tenantId: t.id, status: 'SUSPENDED' },
      { type: 'tenant.status', tenantId: t.id, status: 'SUSPENDED' },
      { type: 'tenant.status', tenantId: t.id, status: 'ACTIVE' },
    ]);
    const events = await h.tenantEvents(t.id);
    expect(events.map((e) => e.type)).toEqual(['tenant.created.v1', 'tenant.suspended.v1', 'tenant.reactivated.v1']);
    expect(events[1]!.payload).toMatchObject({ id: t.id, status: 'SUSPENDED' });
  });

  it('are PLATFORM_ADMIN only, and unknown ids are NOT_FOUND', async () => {
    const t = await create('Protected');
    const before = h.published.length;
    for (const role of ['TENANT_ADMIN', 'MEMBER'] as const) {
      for (const op of [SUSPEND, REACTIVATE]) {
        expect(codes(await h.as(role, t.id)(op, { id: t.id }))).toEqual(['FORBIDDEN']);
      }
    }
    expect(h.published.length).toBe(before);
    expect((await platform<{ tenant: TenantOut }>(GET, { id: t.id })).data!.tenant.status).toBe('ACTIVE');
    expect(codes(await platform(SUSPEND, { id: randomUUID() }))).toEqual(['NOT_FOUND']);
    expect(codes(await platform(REACTIVATE, { id: 'nope' }))).toEqual(['NOT_FOUND']);
  });

  it('a TENANT_ADMIN whose signed membership still says ACTIVE cannot update a suspended tenant', async () => {
    const t = await create('Stale');
    await platform(SUSPEND, { id: t.id });
    const stale = h.as('TENANT_ADMIN', t.id, 'ACTIVE');
    expect(codes(await stale(UPDATE, { id: t.id, input: { name: 'Sneaky' } }))).toEqual(['UNAUTHENTICATED']);
    expect((await platform<{ tenant: TenantOut }>(GET, { id: t.id })).data!.tenant.name).toBe('Stale');
    expect((await h.tenantEvents(t.id)).map((e) => e.type)).toEqual(['tenant.created.v1', 'tenant.suspended.v1']);
  });

  it('a caller whose tenant is suspended is refused everything', async () => {
    const t = await create('Gone');
    await platform(SUSPEND, { id: t.id });
    const call = h.as('TENANT_ADMIN', t.id, 'SUSPENDED');
    expect(codes(await call(MINE))).toEqual(['UNAUTHENTICATED']);
    expect(codes(await call(GET, { id: t.id }))).toEqual(['UNAUTHENTICATED']);
    expect(codes(await call(UPDATE, { id: t.id, input: { name: 'x' } }))).toEqual(['UNAUTHENTICATED']);
    const refs = await call<{ _entities: unknown[] }>(ENTITIES, { reps: [{ __typename: 'Tenant', id: t.id }] });
    expect(refs.data!._entities).toEqual([null]);
  });
});

describe('tenant settings (retention and ingest filters)', () => {
  const SETTINGS = 'settings { retentionDays maxAccuracyMeters maxSpeedMetersPerSecond dropDuplicates }';
  const UPDATE_SETTINGS = `mutation($id: ID!, $input: UpdateTenantInput!) { updateTenant(id: $id, input: $input) { id ${SETTINGS} } }`;
  type Out = { updateTenant: { settings: Record<string, unknown> } };

  it('unset by default; its TENANT_ADMIN sets, keeps (absent) and clears (null) them', async () => {
    const t = await create('Settings');
    const get = await platform<{ tenant: { settings: unknown } }>(
      `query($id: ID!) { tenant(id: $id) { ${SETTINGS} } }`,
      {
        id: t.id,
      },
    );
    expect(get.data!.tenant.settings).toEqual({
      retentionDays: null,
      maxAccuracyMeters: null,
      maxSpeedMetersPerSecond: null,
      dropDuplicates: false,
    });
    const admin = h.as('TENANT_ADMIN', t.id);
    const set = await admin<Out>(UPDATE_SETTINGS, {
      id: t.id,
      input: {
        settings: { retentionDays: 30, maxAccuracyMeters: 25, maxSpeedMetersPerSecond: 70, dropDuplicates: true },
      },
    });
    expect(set.errors).toBeUndefined();
    expect(set.data!.updateTenant.settings).toEqual({
      retentionDays: 30,
      maxAccuracyMeters: 25,
      maxSpeedMetersPerSecond: 70,
      dropDuplicates: true,
    });
    const partly = await admin<Out>(UPDATE_SETTINGS, {
      id: t.id,
      input: { name: 'Settings 2', settings: { maxAccuracyMeters: null, dropDuplicates: null } },
    });
    expect(partly.data!.updateTenant.settings).toEqual({
      retentionDays: 30,
      maxAccuracyMeters: null,
      maxSpeedMetersPerSecond: 70,
      dropDuplicates: false,
    });
  });

  it('refuses invalid settings naming the field; retentionDays is capped by POINT_RETENTION_MAX_DAYS (365)', async () => {
    const t = await create('Bad settings');
    const admin = h.as('TENANT_ADMIN', t.id);
    const cases: [Record<string, unknown>, string][] = [
      [{ retentionDays: 0 }, 'retentionDays'],
      [{ retentionDays: 366 }, 'retentionDays'],
      [{ maxAccuracyMeters: 0 }, 'maxAccuracyMeters'],
      [{ maxAccuracyMeters: -5 }, 'maxAccuracyMeters'],
      [{ maxSpeedMetersPerSecond: 0 }, 'maxSpeedMetersPerSecond'],
    ];
    for (const [settings, field] of cases) {
      const r = await admin(UPDATE_SETTINGS, { id: t.id, input: { settings } });
      expect(codes(r)).toEqual(['BAD_USER_INPUT']);
      expect(fields(r)).toEqual([`input.settings.${field}`]);
    }
    expect(
      (await admin<Out>(UPDATE_SETTINGS, { id: t.id, input: { settings: { retentionDays: 365 } } })).errors,
    ).toBeUndefined();
  });

  it("a MEMBER cannot change them (FORBIDDEN); another tenant's admin gets NOT_FOUND", async () => {
    const mine = await create('Mine');
    const other = await create('Other');
    const member = await h.as('MEMBER', mine.id)(UPDATE_SETTINGS, {
      id: mine.id,
      input: { settings: { retentionDays: 1 } },
    });
    expect(codes(member)).toEqual(['FORBIDDEN']);
    const foreign = await h.as('TENANT_ADMIN', mine.id)(UPDATE_SETTINGS, {
      id: other.id,
      input: { settings: { retentionDays: 1 } },
    });
    expect(codes(foreign)).toEqual(['NOT_FOUND']);
    const after = await platform<{ tenant: { settings: { retentionDays: number | null } } }>(
      `query($id: ID!) { tenant(id: $id) { ${SETTINGS} } }`,
      { id: other.id },
    );
    expect(after.data!.tenant.settings.retentionDays).toBeNull();
  });
});
