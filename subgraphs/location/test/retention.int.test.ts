/** Point retention on the real Postgres server; the suite is shared with the embedded run (retentionContract.ts). */
import { testEnv } from '@lt/testing';
import { retentionContract } from './retentionContract';

retentionContract(() => testEnv().databaseUrl);
