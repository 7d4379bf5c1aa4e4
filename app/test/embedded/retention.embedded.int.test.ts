/** The point-retention contract (subgraphs/location/test/retentionContract.ts) on the embedded PGlite database. */
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll } from 'vitest';
import { startEmbeddedPostgres, type EmbeddedPostgres } from '@lt/embedded';
import { retentionContract } from '@lt/subgraph-location/testing';

let pg: EmbeddedPostgres;
const dataDir = mkdtempSync(join(tmpdir(), 'lt-embedded-retention-'));

beforeAll(async () => {
  pg = await startEmbeddedPostgres({ dataDir });
});
afterAll(async () => {
  await pg?.stop();
  rmSync(dataDir, { recursive: true, force: true });
});

retentionContract(() => pg.appUrl);
