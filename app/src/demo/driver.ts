import type { Logger } from '@lt/logger';
import { ApiError, call, login } from './seed';

/** Device ids of the built-in demo vehicles (the simulator uses other ones). */
export const DEMO_DEVICE_PREFIX = 'demo-van-';

export interface DemoDriver {
  /** Ids of the sessions being driven now. */
  sessionIds(): string[];
  /** Stops moving and ends the demo sessions (best effort). */
  stop(): Promise<void>;
}

interface Vehicle {
  deviceId: string;
  sessionId: string;
  startedAt: number;
  lat: number;
  lon: number;
  heading: number;
  speed: number;
  lastAt: number;
}

const CENTRE = { lat: 52.52, lon: 13.405 };
/** Vehicles turn back towards the centre beyond this distance (metres). */
const RADIUS_M = 4_000;
const rand = (a: number, b: number): number => a + Math.random() * (b - a);

function move(v: Vehicle, dtSec: number): void {
  const dy = (v.lat - CENTRE.lat) * 111_320;
  const dx = (v.lon - CENTRE.lon) * 111_320 * Math.cos((v.lat * Math.PI) / 180);
  let turn = rand(-12, 12);
  if (Math.hypot(dx, dy) > RADIUS_M) {
    // Steer towards the centre, a little at a time.
    const home = (Math.atan2(-dx, -dy) * 180) / Math.PI;
    const diff = ((home - v.heading + 540) % 360) - 180;
    turn = Math.max(-25, Math.min(25, diff));
  }
  v.heading = (v.heading + turn + 360) % 360;
  v.speed = Math.min(22, Math.max(8, v.speed + rand(-1.5, 1.5)));
  const metres = v.speed * dtSec;
  const rad = (v.heading * Math.PI) / 180;
  v.lat += (metres * Math.cos(rad)) / 111_320;
  v.lon += (metres * Math.sin(rad)) / (111_320 * Math.cos((v.lat * Math.PI) / 180));
}

/**
 * The built-in demo driver (embedded demo, `DEMO=off` turns it off): a few vans of the demo
 * member move around Berlin through the public API, one point per van per `intervalMs`, so the
 * dashboard has something moving from the moment `npm start` is ready. Sessions left active by an
 * earlier run that did not stop cleanly are ended first; each session is ended after
 * `sessionMinutes` and a new one started, so there is history to replay.
 */
export async function startDemoDriver(o: {
  routerUrl: string;
  account: { email: string; password: string };
  vehicles?: number;
  intervalMs?: number;
  sessionMinutes?: number;
  log: Logger;
}): Promise<DemoDriver> {
  const url = o.routerUrl;
  const intervalMs = o.intervalMs ?? 1_000;
  const sessionMs = (o.sessionMinutes ?? 10) * 60_000;
  let token = await login(url, o.account);
  const authed = async <T>(query: string, variables: Record<string, unknown>): Promise<T> => {
    try {
      return await call<T>(url, query, variables, token);
    } catch (err) {
      if (!(err instanceof ApiError) || err.code !== 'UNAUTHENTICATED') throw err;
      token = await login(url, o.account); // expired or signed out elsewhere: sign in again
      return call<T>(url, query, variables, token);
    }
  };
  const stopSession = (id: string): Promise<unknown> =>
    authed('mutation($id: ID!) { stopLocationSession(id: $id) { id } }', { id });
  const startSession = async (deviceId: string): Promise<string> =>
    (
      await authed<{ startLocationSession: { id: string } }>(
        'mutation($i: StartLocationSessionInput) { startLocationSession(input: $i) { id } }',
        { i: { deviceId } },
      )
    ).startLocationSession.id;

  const leftovers = await authed<{ locationSessions: { edges: { node: { id: string; deviceId: string | null } }[] } }>(
    'query { locationSessions(status: ACTIVE, first: 100) { edges { node { id deviceId } } } }',
    {},
  );
  for (const { node } of leftovers.locationSessions.edges) {
    if (node.deviceId?.startsWith(DEMO_DEVICE_PREFIX)) await stopSession(node.id);
  }

  const vehicles: Vehicle[] = [];
  for (let i = 1; i <= (o.vehicles ?? 5); i++) {
    const deviceId = `${DEMO_DEVICE_PREFIX}${i}`;
    vehicles.push({
      deviceId,
      sessionId: await startSession(deviceId),
      startedAt: Date.now(),
      lat: CENTRE.lat + rand(-0.02, 0.02),
      lon: CENTRE.lon + rand(-0.03, 0.03),
      heading: rand(0, 360),
      speed: rand(10, 18),
      lastAt: 0,
    });
  }

  let stopped = false;
  let lastWarn = 0;
  const record = async (v: Vehicle): Promise<void> => {
    if (Date.now() - v.startedAt > sessionMs) {
      await stopSession(v.sessionId);
      v.sessionId = await startSession(v.deviceId);
      v.startedAt = Date.now();
    }
    move(v, intervalMs / 1000);
    v.lastAt = Math.max(v.lastAt + 1, Date.now());
    await authed('mutation($s: ID!, $l: LocationInput!) { recordLocation(sessionId: $s, location: $l) { id } }', {
      s: v.sessionId,
      l: {
        latitude: v.lat,
        longitude: v.lon,
        speed: v.speed,
        heading: v.heading,
        accuracy: 5,
        recordedAt: new Date(v.lastAt).toISOString(),
      },
    });
  };
  const tick = async (): Promise<void> => {
    const results = await Promise.allSettled(vehicles.map(record));
    const failed = results.find((r): r is PromiseRejectedResult => r.status === 'rejected');
    if (failed && !stopped && Date.now() - lastWarn > 30_000) {
      lastWarn = Date.now();
      o.log.warn('demo driver: a point was not recorded', { err: String(failed.reason) });
    }
  };
  let timer: NodeJS.Timeout | undefined;
  const loop = async (): Promise<void> => {
    const t0 = Date.now();
    await tick();
    if (stopped) return;
    timer = setTimeout(
      () => {
        running = loop();
      },
      Math.max(0, intervalMs - (Date.now() - t0)),
    );
  };
  let running = loop();
  o.log.info('demo driver started', { vehicles: vehicles.length, intervalMs });
  return {
    sessionIds: () => vehicles.map((v) => v.sessionId),
    async stop() {
      stopped = true;
      clearTimeout(timer);
      await running;
      await Promise.allSettled(vehicles.map((v) => stopSession(v.sessionId)));
    },
  };
}
