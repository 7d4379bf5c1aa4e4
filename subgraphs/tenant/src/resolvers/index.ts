import { DateTimeScalar } from '@lt/server';
import type { TenantSubgraphDeps } from '../deps';
import { createMutationResolvers } from './Mutation';
import { createQueryResolvers } from './Query';
import { tenantResolvers } from './Tenant';

/** The tenant subgraph's resolvers, one file per GraphQL type. */
export function createResolvers(deps: TenantSubgraphDeps) {
  return {
    DateTime: DateTimeScalar,
    Query: createQueryResolvers(deps),
    Mutation: createMutationResolvers(deps),
    Tenant: tenantResolvers,
  };
}
