/**
 * The README's quick start with BOOTSTRAP_ADMIN_EMAIL / BOOTSTRAP_ADMIN_PASSWORD set (README
 * Configuration) and the embedded demo: `npm start` seeds the demo as that platform admin (the
 * demo admin is not created), the banner names it without printing its password, and every other
 * quick-start command works as written in the same environment.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { gql } from '../support/graphql';
import {
  activeSessions,
  clientCommands,
  credentials,
  login,
  runAsReadmeSays,
  startCleanCopy,
  stopCleanCopy,
  type StartedCopy,
  type Terminal,
} from './quickstart';

const ADMIN = { email: 'ops@fleet.example', password: 'Ops-Bootstrap-2026' };
const clients = clientCommands();
let copy: StartedCopy | undefined;
let dir: string;
let start: Terminal;
let router = '';
let env: NodeJS.ProcessEnv;
let printed: (label: string) => string;

beforeAll(async () => {
  copy = await startCleanCopy({ BOOTSTRAP_ADMIN_EMAIL: ADMIN.email, BOOTSTRAP_ADMIN_PASSWORD: ADMIN.password });
  ({ dir, terminal: start, router, env, printed } = copy);
}, 130_000);

afterAll(() => stopCleanCopy(copy));

describe('npm start with BOOTSTRAP_ADMIN_* and the embedded demo', () => {
  it('seeds the demo as the configured platform admin; the banner names it, not its password', async () => {
    expect(printed('platform admin')).toBe(`${ADMIN.email} / (BOOTSTRAP_ADMIN_PASSWORD)`);
    expect(start.output).not.toContain(ADMIN.password);
    const token = await login(router, ADMIN);
    const r = await gql<{ me: { role: string }; tenants: { edges: { node: { name: string } }[] } }>(
      router,
      '{ me { role } tenants(first: 50) { edges { node { name } } } }',
      {},
      { authorization: `Bearer ${token}` },
    );
    expect(r.data?.me.role).toBe('PLATFORM_ADMIN');
    expect(r.data?.tenants.edges.map((e) => e.node.name)).toContain('Demo Fleet');
    // Only the configured platform admin exists.
    const demoAdmin = await gql(
      router,
      'mutation { login(email: "admin@demo.local", password: "DemoAdmin-2026") { accessToken } }',
    );
    expect(demoAdmin.errors?.[0]?.extensions?.['code']).toBe('UNAUTHENTICATED');
    // The demo vans move in the demo tenant.
    const tenantAdmin = await login(router, credentials(printed('tenant admin')));
    const vans = (await activeSessions(router, tenantAdmin)).filter((v) => v.deviceId?.startsWith('demo-van-'));
    expect(vans).toHaveLength(5);
  });

  it.each(clients)('`%s` works as written', async (command) => {
    const t = await runAsReadmeSays(
      command,
      dir,
      env,
      command.startsWith('npm run simulate')
        ? (term) => /"msg":"progress","recorded":[1-9]/.test(term.output)
        : undefined,
    );
    expect(t.succeeded, t.output).toBe(true);
    expect(t.output).not.toMatch(/UNAUTHENTICATED|Error:/);
    if (command.startsWith('npm run simulate')) expect(t.output).toMatch(/"msg":"done","recorded":[1-9]\d*,"errors":0/);
  });

  it('stops cleanly on Ctrl-C', async () => {
    start.interrupt();
    expect(await start.exited(30_000)).toBe(true);
    expect(start.output).not.toMatch(/"level":"error"/);
  });
});
