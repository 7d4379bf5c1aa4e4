import { readFileSync } from 'node:fs';
import type { Db } from '@lt/db';
import type { Logger } from '@lt/logger';
import type { LiveEvent } from '@lt/events';
import type { PubSub } from '@lt/pubsub';
import { createSubgraphServer, type SubgraphServer } from '@lt/server';
import type { FenceIndexCache } from './geofence/fenceIndex';
import { createResolvers } from './resolvers';
import type { LivePublisher } from './events/live';
import type { FleetOptions } from './fleet/state';

export { createLivePublisher, type LivePublisher, type LiveStats } from './events/live';
export { runRetention, startRetentionJob, type RetentionJob, type RetentionRun } from './fleet/retention';

/** The location subgraph's SDL, composed via supergraph.yaml. */
export const locationTypeDefs = readFileSync(new URL('../schema.graphql', import.meta.url), 'utf8');

export interface LocationSubgraphDeps {
  db: Db;
  log: Logger;
  /** Shared with the router (ROUTER_CONTEXT_SECRET). */
  contextSecret: string;
  /** Live channel for router fan-out (Redis across replicas, memory embedded). None: no live events. */
  pubsub?: PubSub;
  /** Told about every live event the pub/sub lost after its commit (its subscribers missed it). */
  onLiveLost?: (event: LiveEvent, err: unknown) => void;
  /** The live publisher (`createLivePublisher(pubsub, onLost)`), to read its stats; default built from `pubsub`. */
  live?: LivePublisher;
  /** Clock (tests). Default `new Date()`. */
  now?: () => Date;
  /** Geofences a tenant may hold (GEOFENCES_MAX_PER_TENANT). Default 10,000. */
  maxGeofencesPerTenant?: number;
  /** The tenants' fence indexes (one per process). Default: a new cache. */
  fenceIndexes?: FenceIndexCache;
  /** Fleet state (filters, summaries, devices): stop and offline rules; `enabled: false` skips it (bench). */
  fleet?: FleetOptions;
}

/** Builds the location subgraph from injected dependencies; `index.ts` runs it. */
export function createLocationSubgraph(deps: LocationSubgraphDeps): SubgraphServer {
  return createSubgraphServer({
    name: 'location',
    typeDefs: locationTypeDefs,
    resolvers: createResolvers(deps),
    contextSecret: deps.contextSecret,
    log: deps.log,
  });
}
