/**
 * A fleet simulator that drives the public API only. By default it signs in as a member of an
 * existing tenant (the demo member of `npm start`) and moves that member's devices, so the
 * dashboard of that tenant shows them; with `tenants` it creates tenants and users the way an
 * operator would (platform admin → createTenant → inviteUser → register). Devices move on smooth
 * random walks and record their positions. Used for demos and as a benchmark load source.
 */
import { randomBytes } from 'node:crypto';

export interface FleetOptions {
  url: string;
  adminEmail: string;
  adminPassword: string;
  tenants: number;
  devicesPerTenant: number;
  /** Points per second per device. */
  rate: number;
  /** Stop after this many seconds (0 = until `signal` aborts). */
  durationSec: number;
  signal?: AbortSignal;
  log?: (msg: string, fields?: Record<string, unknown>) => void;
  /** Centre of the simulated area. Default: Berlin. */
  centre?: { lat: number; lon: number };
}

export interface FleetStats {
  recorded: number;
  errors: number;
  sessions: number;
  elapsedSec: number;
  /** Request latencies of recordLocation, ms. */
  latencies: number[];
}

type Json = Record<string, unknown>;

async function call(url: string, query: string, variables: Json, token?: string): Promise<Json> {
  const res = await fetch(url, {
    method: 'POST',
    headers: { 'content-type': 'application/json', ...(token ? { authorization: `Bearer ${token}` } : {}) },
    body: JSON.stringify({ query, variables }),
    signal: AbortSignal.timeout(15_000),
  });
  const body = (await res.json()) as { data?: Json; errors?: { message: string; extensions?: { code?: string } }[] };
  if (body.errors?.length) throw new Error(body.errors.map((e) => `${e.extensions?.code}: ${e.message}`).join('; '));
  return body.data ?? {};
}

export interface Device {
  token: string;
  sessionId: string;
  lat: number;
  lon: number;
  heading: number;
  speed: number;
  last: number;
}

const rand = (a: number, b: number): number => a + Math.random() * (b - a);

const login = async (url: string, email: string, password: string): Promise<string> =>
  (
    (await call(url, 'mutation($e: String!, $p: String!) { login(email: $e, password: $p) { accessToken } }', {
      e: email,
      p: password,
    })) as { login: { accessToken: string } }
  ).login.accessToken;

async function startDevices(
  url: string,
  token: string,
  count: number,
  deviceId: (d: number) => string,
  centre: { lat: number; lon: number },
): Promise<Device[]> {
  const devices: Device[] = [];
  for (let d = 0; d < count; d++) {
    const s = (await call(
      url,
      'mutation($i: StartLocationSessionInput) { startLocationSession(input: $i) { id } }',
      { i: { deviceId: deviceId(d) } },
      token,
    )) as { startLocationSession: { id: string } };
    devices.push({
      token,
      sessionId: s.startLocationSession.id,
      lat: centre.lat + rand(-0.01, 0.01),
      lon: centre.lon + rand(-0.01, 0.01),
      heading: rand(0, 360),
      speed: rand(5, 15),
      last: 0,
    });
  }
  return devices;
}

/** Starts `devices` sessions as an existing user (default: the demo member of `npm start`). */
export async function setUpMemberFleet(o: {
  url: string;
  email: string;
  password: string;
  devices: number;
  centre?: { lat: number; lon: number };
  log?: (msg: string, fields?: Record<string, unknown>) => void;
}): Promise<Device[]> {
  const token = await login(o.url, o.email, o.password);
  const run = randomBytes(2).toString('hex');
  const centre = o.centre ?? { lat: 52.52 + rand(-0.02, 0.02), lon: 13.405 + rand(-0.03, 0.03) };
  const devices = await startDevices(o.url, token, o.devices, (d) => `sim-${run}-${d + 1}`, centre);
  o.log?.('devices ready', { as: o.email, devices: devices.length });
  return devices;
}

/** Ends the simulated sessions (so dashboards stop listing them as active). Best effort. */
export async function stopFleet(url: string, devices: Device[]): Promise<void> {
  await Promise.allSettled(
    devices.map((d) =>
      call(url, 'mutation($id: ID!) { stopLocationSession(id: $id) { id } }', { id: d.sessionId }, d.token),
    ),
  );
}

/** Sets up tenants, users and sessions; returns the devices ready to move. */
export async function setUpFleet(o: FleetOptions): Promise<Device[]> {
  const log = o.log ?? (() => undefined);
  const centre = o.centre ?? { lat: 52.52, lon: 13.405 };
  const adminToken = await login(o.url, o.adminEmail, o.adminPassword);
  const run = randomBytes(3).toString('hex');
  const devices: Device[] = [];
  for (let t = 0; t < o.tenants; t++) {
    const slug = `sim-${run}-${t}`;
    const tenant = (await call(
      o.url,
      'mutation($i: CreateTenantInput!) { createTenant(input: $i) { id } }',
      { i: { name: `Simulated fleet ${t + 1}`, slug } },
      adminToken,
    )) as {
      createTenant: { id: string };
    };
    const email = `driver-${run}-${t}@sim.example`;
    const password = `Sim-${randomBytes(6).toString('hex')}A1`;
    const invite = (await call(
      o.url,
      'mutation($i: InviteUserInput!) { inviteUser(input: $i) { code } }',
      { i: { email, role: 'MEMBER', tenantId: tenant.createTenant.id } },
      adminToken,
    )) as {
      inviteUser: { code: string };
    };
    const reg = (await call(o.url, 'mutation($i: RegisterInput!) { register(input: $i) { accessToken } }', {
      i: { invitationCode: invite.inviteUser.code, email, password },
    })) as {
      register: { accessToken: string };
    };
    const token = reg.register.accessToken;
    const base = { lat: centre.lat + rand(-0.05, 0.05), lon: centre.lon + rand(-0.08, 0.08) };
    devices.push(...(await startDevices(o.url, token, o.devicesPerTenant, (d) => `vehicle-${t}-${d}`, base)));
    log('tenant ready', { slug, devices: o.devicesPerTenant });
  }
  return devices;
}

/** Advances one device by `dtSec`: smooth heading changes, speed in m/s, wraps heading to [0, 360). */
export function step(d: Device, dtSec: number): void {
  d.heading = (d.heading + rand(-15, 15) + 360) % 360;
  d.speed = Math.min(25, Math.max(2, d.speed + rand(-1, 1)));
  const metres = d.speed * dtSec;
  const rad = (d.heading * Math.PI) / 180;
  d.lat += (metres * Math.cos(rad)) / 111_320;
  d.lon += (metres * Math.sin(rad)) / (111_320 * Math.cos((d.lat * Math.PI) / 180));
}

/** Moves every device at `rate` points/s until the duration ends or the signal aborts. */
export async function driveFleet(o: FleetOptions, devices: Device[]): Promise<FleetStats> {
  const stats: FleetStats = { recorded: 0, errors: 0, sessions: devices.length, elapsedSec: 0, latencies: [] };
  const start = Date.now();
  const deadline = o.durationSec > 0 ? start + o.durationSec * 1000 : Number.POSITIVE_INFINITY;
  const interval = 1000 / o.rate;
  const mutation = 'mutation($s: ID!, $l: LocationInput!) { recordLocation(sessionId: $s, location: $l) { id } }';
  const progress = setInterval(() => o.log?.('progress', { recorded: stats.recorded, errors: stats.errors }), 5_000);
  await Promise.all(
    devices.map(async (d, i) => {
      await new Promise((r) => setTimeout(r, (interval * i) / devices.length)); // spread the devices out
      while (Date.now() < deadline && !o.signal?.aborted) {
        const t0 = Date.now();
        step(d, interval / 1000);
        try {
          await call(
            o.url,
            mutation,
            {
              s: d.sessionId,
              l: {
                latitude: d.lat,
                longitude: d.lon,
                speed: d.speed,
                heading: d.heading,
                accuracy: 5,
                recordedAt: new Date().toISOString(),
              },
            },
            d.token,
          );
          stats.recorded += 1;
          stats.latencies.push(Date.now() - t0);
          if (stats.latencies.length > 100_000) stats.latencies.splice(0, 50_000);
        } catch {
          stats.errors += 1;
        }
        const wait = interval - (Date.now() - t0);
        if (wait > 0) await new Promise((r) => setTimeout(r, wait));
      }
    }),
  );
  clearInterval(progress);
  stats.elapsedSec = (Date.now() - start) / 1000;
  return stats;
}
