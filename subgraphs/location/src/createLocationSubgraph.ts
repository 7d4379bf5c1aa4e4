import { readFileSync } from 'node:fs';
import { createSubgraphServer, type SubgraphServer } from '@lt/server';
import type { LocationSubgraphDeps } from './deps';
import { createResolvers } from './resolvers';

export type { LocationSubgraphDeps } from './deps';
export { createLivePublisher, type LivePublisher, type LiveStats } from './events/live';
export { runRetention, startRetentionJob, type RetentionJob, type RetentionRun } from './fleet/retention';

/** The location subgraph's SDL, composed via supergraph.yaml. */
export const locationTypeDefs = readFileSync(new URL('../schema.graphql', import.meta.url), 'utf8');

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
