/**
 * The newcomer's hour (issue #7): `npm start` from a clean copy of the repository with none of
 * DATABASE_URL, REDIS_URL, KAFKA_BROKERS or COGNITO_* set. Logs in as the printed demo accounts,
 * records a point, receives it on a subscription and at the demo webhook receiver; drives the
 * dashboard in headless Chromium; runs the typed example client; stops cleanly on SIGTERM.
 */
import { spawn, execFileSync, type ChildProcess } from 'node:child_process';
import { cpSync, mkdirSync, mkdtempSync, rmSync, symlinkSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { createClient } from 'graphql-ws';
import { chromium } from 'playwright-core';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import WebSocket from 'ws';
import { waitFor } from '@lt/testing';
import { runExample } from '@lt/example-client';
import { driveFleet, setUpFleet } from '../../scripts/simulate/fleet';
import { gql } from '../support/graphql';

const repo = fileURLToPath(new URL('../..', import.meta.url));
const artifacts = join(repo, 'test-results');
let dir: string;
let child: ChildProcess;
let output = '';
let readyMs = 0;
const printed: Record<string, string> = {};

/** A clean copy: the committed files only (no .data, no build output), sharing node_modules. */
function cleanCopy(): string {
  const target = mkdtempSync(join(tmpdir(), 'lt-newcomer-'));
  const files = execFileSync('git', ['ls-files', '-z', '--cached', '--others', '--exclude-standard'], {
    cwd: repo,
    encoding: 'utf8',
  })
    .split('\0')
    .filter((f) => f.length > 0);
  for (const f of files) {
    mkdirSync(dirname(join(target, f)), { recursive: true });
    try {
      cpSync(join(repo, f), join(target, f));
    } catch {
      // a file deleted in the working tree but still in the index
    }
  }
  symlinkSync(join(repo, 'node_modules'), join(target, 'node_modules'), 'dir');
  symlinkSync(join(repo, 'prisma/generated'), join(target, 'prisma/generated'), 'dir');
  return target;
}

function line(label: string): string {
  const m = output.match(new RegExp(`${label}\\s+(\\S+)(?: / (\\S+))?`));
  if (!m) throw new Error(`npm start did not print "${label}"`);
  return m[2] ? `${m[1]} / ${m[2]}` : m[1]!;
}

beforeAll(async () => {
  dir = cleanCopy();
  const env: NodeJS.ProcessEnv = {
    ...process.env,
    NO_COLOR: '1',
    LOG_LEVEL: 'warn',
    PORT: '0',
    AUTH_PORT: '0',
    TENANT_PORT: '0',
    LOCATION_PORT: '0',
    STREAMING_PORT: '0',
    COGNITO_LOCAL_PORT: '0',
    DEMO_RECEIVER_PORT: '0',
  };
  for (const k of Object.keys(env)) {
    if (
      /^(DATABASE_URL|REDIS_URL|KAFKA_BROKERS|COGNITO_|MIGRATION_DATABASE_URL|ADMIN_DATABASE_URL|ROUTER_CONTEXT_SECRET)/.test(
        k,
      )
    )
      delete env[k];
  }
  const t0 = Date.now();
  // Own process group, so the whole tree (npm → tsx → node) can be cleaned up whatever happens.
  child = spawn('npm', ['start'], { cwd: dir, env, stdio: ['ignore', 'pipe', 'pipe'], detached: true });
  child.stdout!.on('data', (d: Buffer) => (output += d.toString()));
  child.stderr!.on('data', (d: Buffer) => (output += d.toString()));
  await waitFor(() => output.includes('Location supergraph ready') && output.includes('member '), {
    timeoutMs: 90_000,
    intervalMs: 100,
    what: `npm start to print ready (output so far:\n${output.slice(-2000)})`,
  });
  readyMs = Date.now() - t0;
  printed['router'] = line('GraphQL \\+ Apollo Sandbox');
  printed['dashboard'] = line('Live dashboard');
  printed['receiver'] = line('Demo webhook receiver');
  printed['admin'] = line('platform admin');
  printed['member'] = line('member');
  console.log(`npm start ready in ${readyMs} ms (includes tsx start-up)`);
}, 120_000);

afterAll(async () => {
  if (child?.pid) {
    try {
      process.kill(-child.pid, 'SIGKILL');
    } catch {
      // already gone
    }
  }
  if (dir) rmSync(dir, { recursive: true, force: true });
});

const creds = (which: 'admin' | 'member'): { email: string; password: string } => {
  const [email, password] = printed[which]!.split(' / ');
  return { email: email!, password: password! };
};

async function login(which: 'admin' | 'member'): Promise<string> {
  const c = creds(which);
  const r = await gql<{ login: { accessToken: string } }>(
    printed['router']!,
    'mutation($e: String!, $p: String!) { login(email: $e, password: $p) { accessToken } }',
    { e: c.email, p: c.password },
  );
  expect(r.errors).toBeUndefined();
  return r.data!.login.accessToken;
}

describe('npm start on a machine with nothing configured', () => {
  it('prints the URLs and demo logins, and runs every part embedded', () => {
    expect(output).toMatch(/postgres: embedded, cognito: embedded, redis: embedded, kafka: embedded/);
    expect(printed['router']).toMatch(/^http:\/\/127\.0\.0\.1:\d+\/graphql$/);
  });

  it('the demo admin logs in; a point reaches a subscription and the demo webhook receiver', async () => {
    const adminToken = await login('admin');
    const me = await gql<{ me: { role: string } }>(
      printed['router']!,
      '{ me { role } }',
      {},
      { authorization: `Bearer ${adminToken}` },
    );
    expect(me.data?.me.role).toBe('PLATFORM_ADMIN');

    const token = await login('member');
    const auth = { authorization: `Bearer ${token}` };
    const started = await gql<{ startLocationSession: { id: string } }>(
      printed['router']!,
      'mutation { startLocationSession(input: { deviceId: "newcomer-van" }) { id } }',
      {},
      auth,
    );
    expect(started.errors).toBeUndefined();
    const sessionId = started.data!.startLocationSession.id;

    const ws = createClient({
      url: printed['router']!.replace('http', 'ws'),
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
            printed['router']!,
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
  });

  it('the dashboard shows a point recorded through the API (headless Chromium)', async () => {
    const browser = await chromium.launch({
      executablePath: '/usr/bin/chromium',
      args: [
        '--no-sandbox',
        '--disable-gpu',
        '--disable-quic',
        '--no-first-run',
        '--disable-background-networking',
        '--disable-component-update',
        '--disable-sync',
      ],
    });
    try {
      const page = await browser.newPage({ viewport: { width: 1280, height: 800 } });
      const external: string[] = [];
      page.on('request', (req) => {
        if (
          !req.url().startsWith('http://127.0.0.1') &&
          !req.url().startsWith('ws://127.0.0.1') &&
          !req.url().startsWith('data:')
        )
          external.push(req.url());
      });
      await page.goto(printed['dashboard']!);
      const c = creds('member');
      await page.fill('#email', c.email);
      await page.fill('#password', c.password);
      await page.click('#login-form button[type=submit]');
      await page.waitForSelector('#status[data-state=live]', { timeout: 20_000 });

      const token = await login('member');
      const auth = { authorization: `Bearer ${token}` };
      const s = await gql<{ startLocationSession: { id: string } }>(
        printed['router']!,
        'mutation { startLocationSession(input: { deviceId: "dashboard-van" }) { id } }',
        {},
        auth,
      );
      const sessionId = s.data!.startLocationSession.id;
      await page.waitForSelector(`#sessions li[data-session-id="${sessionId}"]`, { timeout: 20_000 });
      const r = await gql(
        printed['router']!,
        'mutation($s: ID!, $l: LocationInput!) { recordLocation(sessionId: $s, location: $l) { id } }',
        { s: sessionId, l: { latitude: 52.5321, longitude: 13.3849, recordedAt: new Date().toISOString() } },
        auth,
      );
      expect(r.errors).toBeUndefined();
      await page.waitForSelector(`#plot circle[data-session-id="${sessionId}"][data-point="52.5321,13.3849"]`, {
        timeout: 20_000,
      });
      mkdirSync(artifacts, { recursive: true });
      await page.screenshot({ path: join(artifacts, 'dashboard.png') });
      expect(external).toEqual([]);
    } finally {
      await browser.close();
    }
  });

  it('the typed example client logs in, records, subscribes and stops its session', async () => {
    const result = await runExample({ url: printed['router']!, ...creds('member') });
    expect(result.recorded).toBeGreaterThanOrEqual(1);
    expect(result.finalPointCount).toBe(result.recorded);
    expect(result.live.longitude).toBeCloseTo(13.405);
  });

  it('the simulator sets up a fleet through the API and moves it', async () => {
    const admin = creds('admin');
    const options = {
      url: printed['router']!,
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
    // The points are really stored, in the simulated tenant's sessions.
    let stored = 0;
    for (const d of devices) {
      const r = await gql<{ locationSession: { pointCount: number } }>(
        printed['router']!,
        'query($id: ID!) { locationSession(id: $id) { pointCount } }',
        { id: d.sessionId },
        { authorization: `Bearer ${d.token}` },
      );
      stored += r.data!.locationSession.pointCount;
    }
    expect(stored).toBe(stats.recorded);
  });

  it('stops cleanly on Ctrl-C: the servers close and nothing is logged as an error', async () => {
    // Ctrl-C in a terminal: SIGINT to the whole foreground process group (npm, tsx, node).
    process.kill(-child.pid!, 'SIGINT');
    await waitFor(
      async () => {
        try {
          await fetch(printed['router']!.replace('/graphql', '/healthz'), { signal: AbortSignal.timeout(1_000) });
          return false;
        } catch {
          return true;
        }
      },
      { timeoutMs: 20_000, intervalMs: 100, what: 'the router to stop listening' },
    );
    await waitFor(
      () => {
        try {
          process.kill(-child.pid!, 0);
          return false;
        } catch {
          return true; // the whole process group has exited
        }
      },
      { timeoutMs: 20_000, intervalMs: 100, what: 'every process of npm start to exit' },
    );
    expect(output).not.toMatch(/"level":"error"/);
  });
});
