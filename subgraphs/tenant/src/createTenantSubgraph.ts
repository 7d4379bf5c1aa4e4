import { readFileSync } from 'node:fs';
import type { Db } from '@lt/db';
import type { IdentityInvalidation } from '@lt/identity';
import type { Logger } from '@lt/logger';
import { createSubgraphServer, type SubgraphServer } from '@lt/server';
import { createTenantReferenceLoader } from './data/references';
import { createTenantStore } from './data/store';
import { createResolvers, type TenantExtraContext } from './resolvers';

/** The tenant subgraph's SDL, composed via supergraph.yaml. */
export const tenantTypeDefs = readFileSync(new URL('../schema.graphql', import.meta.url), 'utf8');

export interface TenantSubgraphDeps {
  db: Db;
  log: Logger;
  /** Shared with the router (ROUTER_CONTEXT_SECRET). */
  contextSecret: string;
  /**
   * Where suspensions and reactivations are announced after commit, so every router replica
   * refuses (or again accepts) the tenant's tokens within seconds. In-memory in one process, Redis
   * across processes.
   */
  identity: IdentityInvalidation;
  /** POINT_RETENTION_MAX_DAYS: the longest `retentionDays` a tenant may set. Default 365. */
  maxRetentionDays?: number;
}

/** Builds the tenant subgraph from injected dependencies; `index.ts` runs it. */
export function createTenantSubgraph(deps: TenantSubgraphDeps): SubgraphServer {
  const store = createTenantStore(deps.db);
  return createSubgraphServer<TenantExtraContext>({
    name: 'tenant',
    typeDefs: tenantTypeDefs,
    resolvers: createResolvers({ ...deps, store }),
    contextSecret: deps.contextSecret,
    log: deps.log,
    extraContext: ({ caller }) => ({ tenantRefs: createTenantReferenceLoader(store, caller.membership) }),
  });
}
