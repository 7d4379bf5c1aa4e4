import { SupergraphClient } from './client';
import {
  LocationUpdatedDocument,
  LoginDocument,
  RecordLocationDocument,
  StartSessionDocument,
  StopSessionDocument,
} from './operations';

export interface ExampleResult {
  userEmail: string;
  sessionId: string;
  recorded: number;
  live: { latitude: number; longitude: number };
  finalPointCount: number;
}

/**
 * The typed client in action: log in, start a session, record points, watch one arrive live over
 * the subscription, stop the session. Every operation is typed by `npm run codegen`.
 */
export async function runExample(opts: {
  url: string;
  email: string;
  password: string;
  log?: (msg: string) => void;
}): Promise<ExampleResult> {
  const log = opts.log ?? (() => undefined);
  const client = new SupergraphClient(opts.url);
  const { login } = await client.request(LoginDocument, { email: opts.email, password: opts.password });
  client.setToken(login.accessToken);
  log(`logged in as ${login.user.email} (${login.user.role})`);

  const { startLocationSession: session } = await client.request(StartSessionDocument, { deviceId: 'example-device' });
  log(`started session ${session.id}`);

  let recorded = 0;
  let lat = 52.52;
  let lastAt = 0;
  const record = async (): Promise<void> => {
    lat += 0.0005;
    // recordedAt identifies a point within its session (a retry with the same value is deduplicated).
    lastAt = Math.max(lastAt + 1, Date.now());
    await client.request(RecordLocationDocument, {
      sessionId: session.id,
      location: {
        latitude: lat,
        longitude: 13.405,
        accuracy: 5,
        recordedAt: new Date(lastAt).toISOString(),
      },
    });
    recorded += 1;
  };
  await record();

  const ws = client.subscriptions();
  try {
    const update = await client.first(ws, LocationUpdatedDocument, { sessionId: session.id }, record);
    log(`live point ${update.locationUpdated.point.latitude},${update.locationUpdated.point.longitude}`);
    const { stopLocationSession: stopped } = await client.request(StopSessionDocument, { id: session.id });
    log(`stopped session with ${stopped.pointCount} points`);
    return {
      userEmail: login.user.email,
      sessionId: session.id,
      recorded,
      live: { latitude: update.locationUpdated.point.latitude, longitude: update.locationUpdated.point.longitude },
      finalPointCount: stopped.pointCount,
    };
  } finally {
    await ws.dispose();
  }
}
