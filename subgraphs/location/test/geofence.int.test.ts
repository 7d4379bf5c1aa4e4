/**
 * The geofence contract (geofenceContract.ts) on real Postgres: CRUD and validation, enter/exit/dwell
 * in the points' transaction, hysteresis, out-of-order and retried points, restart mid-visit, fence
 * changes during a visit, concurrent batches of a session, tenant isolation, live events, and a
 * failed transaction that writes neither points nor events.
 */
import { testEnv } from '@lt/testing';
import { geofenceContract } from './geofenceContract';

geofenceContract(
  () => ({
    appUrl: testEnv().databaseUrl,
    ownerUrl: testEnv().ownerDatabaseUrl,
    contextSecret: testEnv().contextSecret,
  }),
  { concurrentTransactions: true },
);
