/** Test helpers: the environment the global setup prepared, fresh tenants, servers on port 0, cleanup. */
export { testEnv, type TestEnv } from './env';
export { createTestTenant, uniqueName, type TestTenant } from './tenants';
export { freePort, listenOnFreePort, Cleanup } from './servers';
export { waitFor } from './waitFor';
export { subgraphClient, type SubgraphResult } from './subgraphClient';
export { codes, gql, type GraphQLResponse } from './graphql';
export { unsentOutboxCount, unsentOutboxIds } from './outbox';
