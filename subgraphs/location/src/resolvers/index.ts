import { DateTimeScalar } from '@lt/server';
import type { LocationSubgraphDeps } from '../createLocationSubgraph';
import { createMutationResolvers } from './mutations';
import { createQueryResolvers } from './queries';
import { createTypeResolvers } from './types';

export function createResolvers(deps: LocationSubgraphDeps) {
  return {
    DateTime: DateTimeScalar,
    Query: createQueryResolvers(deps),
    Mutation: createMutationResolvers(deps),
    ...createTypeResolvers(deps),
  };
}
