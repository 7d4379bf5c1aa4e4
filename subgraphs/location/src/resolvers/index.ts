import { DateTimeScalar } from '@lt/server';
import type { LocationSubgraphDeps } from '../createLocationSubgraph';
import { createGeofenceResolvers } from './geofences';
import { createMutationResolvers } from './mutations';
import { createQueryResolvers } from './queries';
import { createTypeResolvers } from './types';

export function createResolvers(deps: LocationSubgraphDeps) {
  const geo = createGeofenceResolvers(deps);
  const types = createTypeResolvers(deps);
  return {
    DateTime: DateTimeScalar,
    Query: { ...createQueryResolvers(deps), ...geo.Query },
    Mutation: { ...createMutationResolvers(deps), ...geo.Mutation },
    ...types,
    LocationSession: { ...types.LocationSession, geofencesInside: geo.geofencesInside },
    Geofence: geo.Geofence,
  };
}
