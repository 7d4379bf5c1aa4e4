import { readFileSync } from 'node:fs';
import { createSubgraphServer, type SubgraphServer } from '@lt/server';
import type { TenantExtraContext, TenantSubgraphDeps } from './deps';
import { createResolvers } from './resolvers';
import { createTenantReferenceLoader } from './useCases/tenantReferences';

export type { TenantSubgraphDeps } from './deps';

/** The tenant subgraph's SDL, composed via supergraph.yaml. */
export const tenantTypeDefs = readFileSync(new URL('../schema.graphql', import.meta.url), 'utf8');

/** Builds the tenant subgraph from injected dependencies; `index.ts` runs it. */
export function createTenantSubgraph(deps: TenantSubgraphDeps): SubgraphServer {
  return createSubgraphServer<TenantExtraContext>({
    name: 'tenant',
    typeDefs: tenantTypeDefs,
    resolvers: createResolvers(deps),
    contextSecret: deps.contextSecret,
    log: deps.log,
    extraContext: ({ caller }) => ({ tenantRefs: createTenantReferenceLoader(deps.db, caller.membership) }),
  });
}
