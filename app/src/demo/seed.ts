import { existsSync, mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import { dirname } from 'node:path';
import type { Logger } from '@lt/logger';

/** Demo accounts. Fixed, printed passwords: the embedded demo only (local data, never deployed). */
export const DEMO_ACCOUNTS = {
  admin: { email: 'admin@demo.local', password: 'DemoAdmin-2026' },
  tenantAdmin: { email: 'fleet-admin@demo.local', password: 'DemoFleet-2026' },
  member: { email: 'driver@demo.local', password: 'DemoDriver-2026' },
} as const;

export interface DemoState {
  tenant: { id: string; slug: string; name: string };
  sink: { id: string; secret: string; url: string };
}

type Json = Record<string, unknown>;

export class ApiError extends Error {
  constructor(
    readonly code: string | undefined,
    message: string,
  ) {
    super(message);
  }
}

export async function call<T = Json>(url: string, query: string, variables: Json = {}, token?: string): Promise<T> {
  const res = await fetch(url, {
    method: 'POST',
    headers: { 'content-type': 'application/json', ...(token ? { authorization: `Bearer ${token}` } : {}) },
    body: JSON.stringify({ query, variables }),
    signal: AbortSignal.timeout(15_000),
  });
  const body = (await res.json()) as { data?: T; errors?: { message: string; extensions?: { code?: string } }[] };
  const err = body.errors?.[0];
  if (err) throw new ApiError(err.extensions?.code, `${err.extensions?.code ?? 'ERROR'}: ${err.message}`);
  return body.data as T;
}

export const login = async (url: string, a: { email: string; password: string }): Promise<string> =>
  (
    await call<{ login: { accessToken: string } }>(
      url,
      'mutation($e: String!, $p: String!) { login(email: $e, password: $p) { accessToken } }',
      { e: a.email, p: a.password },
    )
  ).login.accessToken;

/** Invites and registers an account, or (already there from an earlier run) just logs it in. */
async function ensureUser(
  url: string,
  adminToken: string,
  tenantId: string,
  role: 'TENANT_ADMIN' | 'MEMBER',
  a: { email: string; password: string },
): Promise<void> {
  try {
    await login(url, a);
    return;
  } catch {
    // not registered yet
  }
  const invite = await call<{ inviteUser: { code: string } }>(
    url,
    'mutation($i: InviteUserInput!) { inviteUser(input: $i) { code } }',
    { i: { email: a.email, role, tenantId } },
    adminToken,
  );
  await call(url, 'mutation($i: RegisterInput!) { register(input: $i) { accessToken } }', {
    i: { invitationCode: invite.inviteUser.code, email: a.email, password: a.password },
  });
}

/**
 * Seeds the demo through the public API, the way an operator would, idempotently: a tenant with
 * an admin and a member, and one webhook sink pointing at the built-in receiver. The state (ids and
 * the sink's secret, which the API shows only once) is kept in `stateFile` (under `.data/`).
 */
export async function seedDemo(o: {
  routerUrl: string;
  receiverUrl: string;
  stateFile: string;
  /** The platform admin that creates the tenant: BOOTSTRAP_ADMIN_* when set, else the demo admin. */
  admin: { email: string; password: string };
  log: Logger;
}): Promise<DemoState> {
  const url = o.routerUrl;
  const adminToken = await login(url, o.admin);
  let state: DemoState | undefined = existsSync(o.stateFile)
    ? (JSON.parse(readFileSync(o.stateFile, 'utf8')) as DemoState)
    : undefined;
  if (state) {
    const found = await call<{ tenant: { id: string } | null }>(
      url,
      'query($id: ID!) { tenant(id: $id) { id } }',
      { id: state.tenant.id },
      adminToken,
    );
    if (!found.tenant) state = undefined;
  }
  if (!state) {
    const slug = `demo-fleet-${Date.now().toString(36)}`;
    const t = await call<{ createTenant: { id: string; slug: string; name: string } }>(
      url,
      'mutation($i: CreateTenantInput!) { createTenant(input: $i) { id slug name } }',
      { i: { name: 'Demo Fleet', slug } },
      adminToken,
    );
    await ensureUser(url, adminToken, t.createTenant.id, 'TENANT_ADMIN', DEMO_ACCOUNTS.tenantAdmin);
    await ensureUser(url, adminToken, t.createTenant.id, 'MEMBER', DEMO_ACCOUNTS.member);
    const tenantAdminToken = await login(url, DEMO_ACCOUNTS.tenantAdmin);
    const s = await call<{ createStreamSink: { sink: { id: string }; secret: string } }>(
      url,
      'mutation($i: CreateStreamSinkInput!) { createStreamSink(input: $i) { sink { id } secret } }',
      {
        i: {
          name: 'Demo receiver',
          url: o.receiverUrl,
          topics: ['LOCATION_UPDATES', 'SESSION_EVENTS', 'TENANT_EVENTS'],
        },
      },
      tenantAdminToken,
    );
    state = {
      tenant: t.createTenant,
      sink: { id: s.createStreamSink.sink.id, secret: s.createStreamSink.secret, url: o.receiverUrl },
    };
    mkdirSync(dirname(o.stateFile), { recursive: true });
    writeFileSync(o.stateFile, JSON.stringify(state, null, 2), { mode: 0o600 });
    o.log.info('demo seeded', { tenant: state.tenant.slug });
  } else if (state.sink.url !== o.receiverUrl) {
    // The receiver's port changed since the last run: point the sink at it.
    const tenantAdminToken = await login(url, DEMO_ACCOUNTS.tenantAdmin);
    await call(
      url,
      'mutation($id: ID!, $i: UpdateStreamSinkInput!) { updateStreamSink(id: $id, input: $i) { id } }',
      { id: state.sink.id, i: { url: o.receiverUrl, status: 'ACTIVE' } },
      tenantAdminToken,
    );
    state = { ...state, sink: { ...state.sink, url: o.receiverUrl } };
    writeFileSync(o.stateFile, JSON.stringify(state, null, 2), { mode: 0o600 });
  }
  return state;
}
