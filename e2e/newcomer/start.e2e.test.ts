/**
 * The newcomer's first ten minutes: the README's quick start, command by command as written (read
 * out of README.md), on a clean copy of the repository with nothing configured. `npm start`
 * prints its banner (and nothing else at info level before it), the demo vans move, a point
 * reaches a subscription and the demo webhook receiver, `npm run simulate` moves vehicles the
 * demo tenant's admin sees, `npm run example` succeeds, and Ctrl-C stops everything cleanly.
 */
import { existsSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { createClient } from 'graphql-ws';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import WebSocket from 'ws';
import { waitFor } from '@lt/testing';
import { driveFleet, setUpFleet } from '../../scripts/simulate/fleet';
import { gql } from '../support/graphql';
import {
  activeSessions,
  clientCommands,
  credentials,
  login,
  quickStartCommands,
  runAsReadmeSays,
  startCleanCopy,
  stopCleanCopy,
  type StartedCopy,
  type Terminal,
} from './quickstart';

const commands = quickStartCommands();
const clients = clientCommands(commands);
let copy: StartedCopy | undefined;
let dir: string;
let start: Terminal;
let router = '';
let env: NodeJS.ProcessEnv;
const printed: Record<string, string> = {};

beforeAll(async () => {
  // `npm install` is what made node_modules (shared with the copy); `npm test` is this suite.
  expect(commands.slice(0, 3)).toEqual(['npm install', 'npm start', 'npm test']);
  const s = (copy = await startCleanCopy());
  ({ dir, terminal: start, router, env } = s);
  for (const [key, label] of Object.entries({
    receiver: 'Demo webhook receiver',
    admin: 'platform admin',
    tenantAdmin: 'tenant admin',
    member: 'member',
  }))
    printed[key] = s.printed(label);
  console.log(`npm start ready in ${s.readyMs} ms (includes tsx start-up)`);
}, 130_000);

afterAll(() => stopCleanCopy(copy));

describe('the README quick start, to the letter', () => {
  it('the quick start names the commands a newcomer runs', () => {
    expect(clients).toContain('npm run simulate');
    expect(clients).toContain('npm run example');
  });

  it('npm start prints the banner, with no info log lines before it; they are in the start-up log', () => {
    const out = start.output;
    expect(out).toMatch(/postgres: embedded, cognito: embedded, redis: embedded, kafka: embedded/);
    expect(router).toMatch(/^http:\/\/127\.0\.0\.1:\d+\/graphql$/);
    const before = out.slice(0, out.indexOf('Location supergraph ready'));
    expect(before).not.toMatch(/"level":"(info|debug)"/);
    expect(out).toMatch(/Demo vehicles\s+5 vans of driver@demo\.local moving now/);
    const log = join(dir, '.data/start.log');
    expect(existsSync(log)).toBe(true);
    expect(readFileSync(log, 'utf8')).toMatch(/"msg":"demo seeded"/);
  });

  it('the demo vans move from the moment npm start is ready (as the tenant admin sees them)', async () => {
    const token = await login(router, credentials(printed['tenantAdmin']!));
    const vans = (await activeSessions(router, token)).filter((s) => s.deviceId?.startsWith('demo-van-'));
    expect(vans).toHaveLength(5);
    expect(new Set(vans.map((v) => v.user.email))).toEqual(new Set(['driver@demo.local']));
    const before = new Map(vans.map((v) => [v.id, v.pointCount]));
    await waitFor(
      async () =>
        (await activeSessions(router, token)).filter((s) => (before.get(s.id) ?? Infinity) < s.pointCount).length === 5,
      { timeoutMs: 20_000, intervalMs: 250, what: 'every demo van to record more points' },
    );
  });

  it('the demo admin logs in; a point reaches a subscription and the demo webhook receiver', async () => {
    const adminToken = await login(router, credentials(printed['admin']!));
    const me = await gql<{ me: { role: string } }>(
      router,
      '{ me { role } }',
      {},
      { authorization: `Bearer ${adminToken}` },
    );
    expect(me.data?.me.role).toBe('PLATFORM_ADMIN');

    const token = await login(router, credentials(printed['member']!));
    const auth = { authorization: `Bearer ${token}` };
    const started = await gql<{ startLocationSession: { id: string } }>(
      router,
      'mutation { startLocationSession(input: { deviceId: "newcomer-van" }) { id } }',
      {},
      auth,
    );
    expect(started.errors).toBeUndefined();
    const sessionId = started.data!.startLocationSession.id;

    const ws = createClient({
      url: router.replace('http', 'ws'),
      webSocketImpl: WebSocket,
      connectionParams: auth,
      retryAttempts: 0,
    });
    const live: { latitude: number }[] = [];
    const unsubscribe = ws.subscribe<{ locationUpdated: { point: { latitude: number } } }>(
      {
        query: 'subscription($s: ID) { locationUpdated(sessionId: $s) { point { latitude } } }',
        variables: { s: sessionId },
      },
      {
        next: (v) => v.data && live.push(v.data.locationUpdated.point),
        error: () => undefined,
        complete: () => undefined,
      },
    );
    try {
      // The client cannot know when the server registered the subscription: record until one arrives.
      let latitude = 52.51;
      await waitFor(
        async () => {
          if (live.length > 0) return true;
          latitude += 0.0001;
          const r = await gql(
            router,
            'mutation($s: ID!, $l: LocationInput!) { recordLocation(sessionId: $s, location: $l) { id } }',
            { s: sessionId, l: { latitude, longitude: 13.4, recordedAt: new Date().toISOString() } },
            auth,
          );
          expect(r.errors).toBeUndefined();
          return false;
        },
        { timeoutMs: 20_000, intervalMs: 300, what: 'a live point on the subscription' },
      );
      expect(live[0]!.latitude).toBeGreaterThan(52.51);
    } finally {
      unsubscribe();
      await ws.dispose();
    }

    const hooks = await waitFor(
      async () => {
        const r = (await (
          await fetch(`${printed['receiver']}/events`, { signal: AbortSignal.timeout(5_000) })
        ).json()) as {
          events: { type: string; data: { sessionId?: string } }[];
        };
        return r.events.some((e) => e.type === 'location.recorded.v1' && JSON.stringify(e.data).includes(sessionId))
          ? r
          : undefined;
      },
      { timeoutMs: 30_000, intervalMs: 250, what: 'the point at the demo webhook receiver' },
    );
    expect(hooks.events.some((e) => e.type === 'session.started.v1')).toBe(true);
    await gql(router, 'mutation($id: ID!) { stopLocationSession(id: $id) { id } }', { id: sessionId }, auth);
  });

  it.each(clients)('`%s` works as written', async (command) => {
    const tenantAdmin = await login(router, credentials(printed['tenantAdmin']!));
    let simulated: string[] = [];
    const t = await runAsReadmeSays(
      command,
      dir,
      env,
      command.startsWith('npm run simulate')
        ? async (term) => {
            const progress = [...term.output.matchAll(/"msg":"progress","recorded":(\d+)/g)];
            if (!progress.some((m) => Number(m[1]) > 0)) return false;
            if (command !== 'npm run simulate') return true;
            // Without arguments it drives the demo tenant: its admin sees the vehicles move.
            const sims = (await activeSessions(router, tenantAdmin)).filter((s) => s.deviceId?.startsWith('sim-'));
            simulated = sims.map((s) => s.id);
            return sims.length === 10 && sims.every((s) => s.pointCount > 0);
          }
        : undefined,
    );
    expect(t.succeeded, t.output).toBe(true);
    expect(t.output).not.toMatch(/UNAUTHENTICATED|Error:/);
    if (command.startsWith('npm run simulate')) {
      const done = JSON.parse(t.output.split('\n').find((l) => l.includes('"msg":"done"'))!) as {
        recorded: number;
        errors: number;
      };
      expect(done.recorded).toBeGreaterThan(0);
      expect(done.errors).toBe(0);
    }
    if (command === 'npm run simulate') {
      expect(simulated).toHaveLength(10);
      // Ctrl-C ended its sessions: the dashboard no longer lists them as active.
      const still = (await activeSessions(router, tenantAdmin)).filter((s) => simulated.includes(s.id));
      expect(still).toEqual([]);
    }
    if (command === 'npm run example') expect(t.output).toMatch(/logged in as driver@demo\.local \(MEMBER\)/);
  });

  it('the simulator library sets up a fleet in tenants of its own and moves it', async () => {
    const admin = credentials(printed['admin']!);
    const options = {
      url: router,
      adminEmail: admin.email,
      adminPassword: admin.password,
      tenants: 1,
      devicesPerTenant: 2,
      rate: 4,
      durationSec: 2,
    };
    const devices = await setUpFleet(options);
    expect(devices).toHaveLength(2);
    const stats = await driveFleet(options, devices);
    expect(stats.errors).toBe(0);
    expect(stats.recorded).toBeGreaterThanOrEqual(4);
    let stored = 0;
    for (const d of devices) {
      const r = await gql<{ locationSession: { pointCount: number } }>(
        router,
        'query($id: ID!) { locationSession(id: $id) { pointCount } }',
        { id: d.sessionId },
        { authorization: `Bearer ${d.token}` },
      );
      stored += r.data!.locationSession.pointCount;
    }
    expect(stored).toBe(stats.recorded);
  });

  it('stops cleanly on Ctrl-C: the servers close and nothing is logged as an error', async () => {
    start.interrupt();
    expect(await start.exited(30_000)).toBe(true);
    expect(start.output).not.toMatch(/"level":"error"/);
    expect(start.output).not.toMatch(/"level":"warn"/);
  });
});
