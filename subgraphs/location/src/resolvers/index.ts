import { DateTimeScalar } from '@lt/server';
import type { LocationSubgraphDeps } from '../createLocationSubgraph';
import { createGeofenceResolvers } from './geofences';
import { createMutationResolvers } from './mutations';
import { createQueryResolvers } from './queries';
import { createTypeResolvers } from './types';
import { createFleetResolvers } from '../fleet/resolvers';

export function createResolvers(deps: LocationSubgraphDeps) {
  const geo = createGeofenceResolvers(deps);
  const types = createTypeResolvers(deps);
  const fleet = createFleetResolvers(deps);
  return {
    DateTime: DateTimeScalar,
    Query: { ...createQueryResolvers(deps), ...geo.Query, ...fleet.Query },
    Mutation: { ...createMutationResolvers(deps), ...geo.Mutation },
    ...types,
    LocationSession: { ...types.LocationSession, geofencesInside: geo.geofencesInside, ...fleet.SessionSummaryHost },
    Geofence: geo.Geofence,
    Device: fleet.Device,
  };
}
