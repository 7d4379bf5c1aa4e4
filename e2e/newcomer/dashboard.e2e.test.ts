/**
 * The dashboard a newcomer opens right after `npm start` (headless Debian Chromium through
 * playwright-core): signed in as the demo tenant admin, the demo vans move on the MapLibre map
 * within 10 s of readiness; a geofence created through the API is drawn on the map and a van
 * entering it is listed live; a session's history opens from the list with the keyboard and
 * replays with the time slider and Play; a platform admin is told what to do; a router going away
 * shows as reconnecting, in words. Screenshots of the live view and the replay are saved in
 * test-results/. Any request to a host other than the router fails the test.
 */
import { mkdirSync } from 'node:fs';
import { join } from 'node:path';
import { chromium, type Browser, type Page } from 'playwright-core';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { waitFor } from '@lt/testing';
import { cleanCopy, credentials, newcomerEnv, removeCopy, repo, startAsReadmeSays, type Terminal } from './quickstart';

const artifacts = join(repo, 'test-results');
let dir: string;
let start: Terminal;
let browser: Browser;
let readyAt = 0;
let dashboard = '';
let routerOrigin = '';
let printed: (label: string) => string;
const foreign: string[] = [];
const pageErrors: string[] = [];

async function openPage(): Promise<Page> {
  const page = await browser.newPage({ viewport: { width: 1366, height: 800 } });
  page.on('request', (req) => {
    const url = req.url();
    if (!url.startsWith(routerOrigin + '/') && !url.startsWith('data:') && !url.startsWith('blob:')) foreign.push(url);
  });
  page.on('websocket', (ws) => {
    if (!ws.url().startsWith(routerOrigin.replace('http', 'ws') + '/')) foreign.push(ws.url());
  });
  page.on('pageerror', (err) => pageErrors.push(err.message));
  return page;
}

async function signIn(page: Page, who: string): Promise<void> {
  const c = credentials(printed(who));
  await page.goto(dashboard);
  await page.fill('#email', c.email);
  await page.fill('#password', c.password);
  await page.press('#password', 'Enter');
}

const positions = (page: Page): Promise<Record<string, string>> =>
  page.$$eval('#map .vehicle[data-lnglat]', (els) =>
    Object.fromEntries(
      els.map((e) => [(e as HTMLElement).dataset['sessionId']!, (e as HTMLElement).dataset['lnglat']!]),
    ),
  );

beforeAll(async () => {
  // The browser is up before the platform, so "within 10 s of readiness" measures the dashboard.
  browser = await chromium.launch({
    executablePath: '/usr/bin/chromium',
    args: [
      '--no-sandbox',
      '--use-angle=swiftshader',
      '--enable-unsafe-swiftshader',
      '--disable-quic',
      '--no-first-run',
      '--disable-background-networking',
      '--disable-component-update',
      '--disable-sync',
      '--disable-domain-reliability',
    ],
  });
  dir = cleanCopy();
  const s = await startAsReadmeSays(dir, newcomerEnv());
  readyAt = Date.now();
  start = s.terminal;
  printed = s.printed;
  dashboard = s.printed('Live dashboard');
  routerOrigin = new URL(dashboard).origin;
  mkdirSync(artifacts, { recursive: true });
}, 130_000);

afterAll(async () => {
  await browser?.close();
  start?.kill();
  removeCopy(dir);
});

describe('the dashboard right after npm start', () => {
  let page: Page;

  it('signed in as the demo tenant admin, vehicles move on the map within 10 s of readiness', async () => {
    page = await openPage();
    await signIn(page, 'tenant admin');
    await page.waitForSelector('#status[data-state=live]', { timeout: Math.max(1, readyAt + 10_000 - Date.now()) });
    const first = await waitFor(
      async () => {
        const p = await positions(page);
        return Object.keys(p).length >= 5 ? p : undefined;
      },
      { timeoutMs: Math.max(1, readyAt + 10_000 - Date.now()), intervalMs: 100, what: 'five vans on the map' },
    );
    await waitFor(
      async () => {
        const now = await positions(page);
        return Object.keys(first).some((id) => now[id] !== undefined && now[id] !== first[id]);
      },
      { timeoutMs: Math.max(1, readyAt + 10_000 - Date.now()), intervalMs: 100, what: 'a van to move on the map' },
    );
    // A real map: MapLibre's canvas, the built-in basemap, a scale bar.
    expect(await page.locator('#map canvas.maplibregl-canvas').count()).toBe(1);
    await expect
      .poll(() => page.locator('.maplibregl-ctrl-scale').textContent(), { timeout: 5_000 })
      .toMatch(/\d+\s*(m|km)/);
    expect(await page.textContent('#map-note')).toContain('built-in');
    expect(await page.locator('#sessions li').count()).toBeGreaterThanOrEqual(5);
    await page.screenshot({ path: join(artifacts, 'dashboard-live.png') });
  });

  it("draws the tenant's geofences and lists their events live", async () => {
    // A fence around a van, created through the API as the tenant admin: its next point enters it.
    const c = credentials(printed('tenant admin'));
    const api = async (query: string, variables: Record<string, unknown>, token?: string) => {
      const res = await fetch(`${routerOrigin}/graphql`, {
        method: 'POST',
        headers: { 'content-type': 'application/json', ...(token ? { authorization: `Bearer ${token}` } : {}) },
        body: JSON.stringify({ query, variables }),
      });
      const body = (await res.json()) as { data?: Record<string, Record<string, unknown>>; errors?: unknown[] };
      expect(body.errors).toBeUndefined();
      return body.data!;
    };
    const login = await api('mutation($e: String!, $p: String!) { login(email: $e, password: $p) { accessToken } }', {
      e: c.email,
      p: c.password,
    });
    const [lng, lat] = Object.values(await positions(page))[0]!
      .split(',')
      .map(Number);
    await api(
      'mutation($i: CreateGeofenceInput!) { createGeofence(input: $i) { id } }',
      { i: { name: 'e2e depot', circle: { latitude: lat, longitude: lng, radiusMeters: 3_000 } } },
      login['login']!['accessToken'] as string,
    );
    // Live: the page signed in before the fence existed lists the vans entering it as they do.
    await page.waitForSelector('#geofence-events li[data-type=ENTER]', { timeout: 20_000 });
    expect(await page.textContent('#geofence-events li[data-type=ENTER]')).toContain('entered e2e depot');
    // Fences are read at sign-in.
    const fresh = await openPage();
    await signIn(fresh, 'tenant admin');
    await fresh.waitForFunction(
      () => Number(document.querySelector<HTMLElement>('#map')?.dataset['geofencesDrawn']) > 0,
      null,
      {
        timeout: 15_000,
      },
    );
    expect(await fresh.textContent('#fence-count')).toMatch(/^[1-9]\d* fences? on the map$/);
    // Its history is listed too.
    await fresh.waitForSelector('#geofence-events li[data-type=ENTER]', { timeout: 20_000 });
    await fresh.screenshot({ path: join(artifacts, 'dashboard-geofences.png') });
    await fresh.close();
  });

  it('opens a session history from the list with the keyboard and replays it', async () => {
    // Keyboard only: Tab to the first vehicle in the list, Enter.
    await page.focus('#sessions li:first-child button');
    await page.keyboard.press('Enter');
    await page.waitForSelector('#replay-slider:not([disabled])', { timeout: 15_000 });
    expect(await page.textContent('#history-info')).toMatch(/demo-van-\d .*\d+ points/);
    await page.focus('#replay-slider');
    await page.keyboard.press('Home');
    await page.waitForSelector('#replay-marker[data-index="0"]', { timeout: 5_000 });
    const start0 = await page.getAttribute('#replay-marker', 'data-lnglat');
    await page.focus('#play');
    await page.keyboard.press('Space');
    await waitFor(async () => Number(await page.getAttribute('#replay-marker', 'data-index')) >= 2, {
      timeoutMs: 10_000,
      intervalMs: 100,
      what: 'the replay to advance',
    });
    expect(await page.getAttribute('#replay-marker', 'data-lnglat')).not.toBe(start0);
    expect(await page.textContent('#replay-time')).toMatch(/point \d+ of \d+/);
    await page.screenshot({ path: join(artifacts, 'dashboard-replay.png') });
    await page.keyboard.press('Escape');
    await page.waitForSelector('#history', { state: 'hidden' });
  });

  it('a platform admin is told what to do, and picks a tenant to see who can watch it', async () => {
    const admin = await openPage();
    await signIn(admin, 'platform admin');
    await admin.waitForSelector('#platform:not([hidden])');
    expect(await admin.textContent('#platform')).toContain('platform admin');
    await admin.waitForFunction(() =>
      Array.from(document.querySelectorAll('#tenant-select option')).some((o) =>
        o.textContent!.startsWith('Demo Fleet'),
      ),
    );
    const demo = await admin.$eval(
      '#tenant-select',
      (el) => Array.from((el as HTMLSelectElement).options).find((o) => o.text.startsWith('Demo Fleet'))!.value,
    );
    await admin.selectOption('#tenant-select', demo);
    await admin.waitForSelector('#tenant-users button');
    expect(await admin.textContent('#tenant-users')).toContain('fleet-admin@demo.local');
    await admin.screenshot({ path: join(artifacts, 'dashboard-platform-admin.png') });
    await admin.close();
  });

  it('the router going away shows as reconnecting, in words; nothing was fetched from another host', async () => {
    start.interrupt();
    await page.waitForSelector('#status[data-state=reconnecting]', { timeout: 20_000 });
    expect(await page.textContent('#conn-detail')).toMatch(/router is stopping|connection to the router was lost/);
    expect(await page.textContent('#conn-stats')).toMatch(/reconnects: [1-9]/);
    expect(foreign).toEqual([]);
    expect(pageErrors).toEqual([]);
  });
});
