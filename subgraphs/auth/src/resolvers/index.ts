import { DateTimeScalar } from '@lt/server';
import type { AuthServices } from '../deps';
import { createMutationResolvers } from './Mutation';
import { createQueryResolvers } from './Query';
import { createTenantResolvers } from './Tenant';
import { createUserResolvers } from './User';

/** The auth subgraph's resolvers, one file per GraphQL type. */
export function createResolvers(s: AuthServices) {
  return {
    DateTime: DateTimeScalar,
    Query: createQueryResolvers(s),
    Mutation: createMutationResolvers(s),
    User: createUserResolvers(s),
    Tenant: createTenantResolvers(s),
  };
}
