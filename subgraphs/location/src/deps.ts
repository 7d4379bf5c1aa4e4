import type { Db } from '@lt/db';
import type { Logger } from '@lt/logger';
import type { LiveEvent } from '@lt/events';
import type { PubSub } from '@lt/pubsub';
import type { RecordHooks } from './data/points';
import type { LivePublisher } from './events/live';
import type { FenceIndexCache } from './geofence/fenceIndex';
import type { FleetOptions } from './fleet/state';

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

/** What the recording use cases share, built once per subgraph (resolvers/index.ts). */
export interface RecordingDeps {
  db: Db;
  now: () => Date;
  /** Live announcements after commit, never awaited: an answer does not depend on pub/sub. */
  live: LivePublisher;
  fences: FenceIndexCache;
  /** Fleet state maintained in the point transaction; undefined when fleet state is off. */
  hooks: RecordHooks | undefined;
}
