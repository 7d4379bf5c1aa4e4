/**
 * Tenant isolation on the real Postgres server. The suite itself — and the TABLES list
 * that new tenant tables must join — is in rlsContract.ts, shared with the embedded PGlite run.
 */
import { testEnv } from '@lt/testing';
import { rlsContract } from './rlsContract';

rlsContract(() => ({ appUrl: testEnv().databaseUrl, catalogueUrl: testEnv().ownerDatabaseUrl }));
