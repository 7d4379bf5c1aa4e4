import { DateTimeScalar } from '@lt/server';
import type { LocationSubgraphDeps, RecordingDeps } from '../deps';
import { createLivePublisher } from '../events/live';
import { fleetHooks, fleetRules } from '../fleet/state';
import { FenceIndexCache } from '../geofence/fenceIndex';
import { createFleetResolvers } from './Device';
import { createGeofenceResolvers } from './Geofence';
import { createTypeResolvers } from './LocationSession';
import { createMutationResolvers } from './Mutation';
import { createQueryResolvers } from './Query';

/** The location subgraph's resolvers, one file per GraphQL type (Geofence and Device also hold their queries). */
export function createResolvers(deps: LocationSubgraphDeps) {
  const rules = fleetRules(deps.fleet);
  const recording: RecordingDeps = {
    db: deps.db,
    now: deps.now ?? (() => new Date()),
    // Announced after the commit, never awaited: the mutation's answer does not depend on pub/sub.
    live: deps.live ?? createLivePublisher(deps.pubsub, deps.onLiveLost),
    fences: deps.fenceIndexes ?? new FenceIndexCache(),
    hooks: rules.enabled ? fleetHooks(rules) : undefined,
  };
  const geo = createGeofenceResolvers(deps);
  const types = createTypeResolvers(deps);
  const fleet = createFleetResolvers(deps);
  return {
    DateTime: DateTimeScalar,
    Query: { ...createQueryResolvers(deps), ...geo.Query, ...fleet.Query },
    Mutation: { ...createMutationResolvers(recording), ...geo.Mutation },
    ...types,
    LocationSession: { ...types.LocationSession, geofencesInside: geo.geofencesInside, ...fleet.SessionSummaryHost },
    Geofence: geo.Geofence,
    Device: fleet.Device,
  };
}
