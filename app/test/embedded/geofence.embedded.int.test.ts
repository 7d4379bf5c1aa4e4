/**
 * The geofence contract of the real-Postgres run (subgraphs/location/test/geofence.int.test.ts) on
 * the embedded PGlite database `npm start` uses with nothing installed: the same evaluation code,
 * SQL and tests, one implementation behind one interface.
 */
import { randomBytes } from 'node:crypto';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll } from 'vitest';
import { startEmbeddedPostgres, type EmbeddedPostgres } from '@lt/embedded';
import { geofenceContract } from '@lt/subgraph-location/testing';

let pg: EmbeddedPostgres;
const dataDir = mkdtempSync(join(tmpdir(), 'lt-embedded-geofence-'));
const contextSecret = randomBytes(32).toString('hex');

beforeAll(async () => {
  pg = await startEmbeddedPostgres({ dataDir });
});
afterAll(async () => {
  await pg?.stop();
  rmSync(dataDir, { recursive: true, force: true });
});

// The embedded wire server runs one transaction at a time: the test that holds a session lock
// while another batch waits for it cannot run there (nor can the race it covers happen).
geofenceContract(() => ({ appUrl: pg.appUrl, ownerUrl: pg.ownerUrl, contextSecret }), {
  concurrentTransactions: false,
});
