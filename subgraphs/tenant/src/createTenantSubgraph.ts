import { readFileSync } from 'node:fs';
import type { Db } from '@lt/db';
import type { Logger } from '@lt/logger';
import { createSubgraphServer, type SubgraphServer } from '@lt/server';
import { createResolvers } from './resolvers';

/** The tenant subgraph's SDL, composed via supergraph.yaml. */
export const tenantTypeDefs = readFileSync(new URL('../schema.graphql', import.meta.url), 'utf8');

export interface TenantSubgraphDeps {
  db: Db;
  log: Logger;
  /** Shared with the router (ROUTER_CONTEXT_SECRET). */
  contextSecret: string;
}

/** Builds the tenant subgraph from injected dependencies; `index.ts` runs it. */
export function createTenantSubgraph(deps: TenantSubgraphDeps): SubgraphServer {
  return createSubgraphServer({
    name: 'tenant',
    typeDefs: tenantTypeDefs,
    resolvers: createResolvers(deps),
    contextSecret: deps.contextSecret,
    log: deps.log,
  });
}
