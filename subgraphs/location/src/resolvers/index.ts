import { notImplemented } from '@lt/errors';
import { DateTimeScalar } from '@lt/server';
import type { LocationSubgraphDeps } from '../createLocationSubgraph';

export function createResolvers(_deps: LocationSubgraphDeps) {
  const todo = (name: string) => () => {
    throw notImplemented(name);
  };
  return {
    DateTime: DateTimeScalar,
    Query: { locationSession: todo('locationSession'), locationSessions: todo('locationSessions') },
    Mutation: {
      startLocationSession: todo('startLocationSession'),
      recordLocation: todo('recordLocation'),
      recordLocations: todo('recordLocations'),
      stopLocationSession: todo('stopLocationSession'),
    },
  };
}
