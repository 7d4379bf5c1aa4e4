/** The weekly point partitions on the real Postgres server; the suite is shared with the embedded run (partitionContract.ts). */
import { testEnv } from '@lt/testing';
import { partitionContract } from './partitionContract';

partitionContract(() => testEnv().databaseUrl);
