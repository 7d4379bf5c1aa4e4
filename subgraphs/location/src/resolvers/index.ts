import { DateTimeScalar } from '@lt/server';
import type { LocationSubgraphDeps } from '../createLocationSubgraph';
import { createMutationResolvers } from './mutations';
import { createQueryResolvers } from './queries';
import { createTypeResolvers } from './types';
import { createFleetResolvers } from '../fleet/resolvers';

export function createResolvers(deps: LocationSubgraphDeps) {
  const types = createTypeResolvers(deps);
  const fleet = createFleetResolvers(deps);
  return {
    DateTime: DateTimeScalar,
    Query: { ...createQueryResolvers(deps), ...fleet.Query },
    Mutation: createMutationResolvers(deps),
    ...types,
    LocationSession: { ...types.LocationSession, ...fleet.SessionSummaryHost },
    Device: fleet.Device,
  };
}
