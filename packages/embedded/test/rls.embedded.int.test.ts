/**
 * The same row-level-security contract as the real server (prisma/test/rls.int.test.ts), run
 * against the embedded PGlite database that `npm start` uses on a machine with nothing installed.
 */
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll } from 'vitest';
import { startEmbeddedPostgres, type EmbeddedPostgres } from '@lt/embedded';
import { rlsContract } from '@lt/db/testing';

let pg: EmbeddedPostgres;
const dataDir = mkdtempSync(join(tmpdir(), 'lt-embedded-rls-'));

beforeAll(async () => {
  pg = await startEmbeddedPostgres({ dataDir });
});
afterAll(async () => {
  await pg?.stop();
  rmSync(dataDir, { recursive: true, force: true });
});

// The catalogue is read as the owner, as on the real server.
rlsContract(() => ({ appUrl: pg.appUrl, catalogueUrl: pg.ownerUrl }));
