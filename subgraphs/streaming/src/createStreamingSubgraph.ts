import { readFileSync } from 'node:fs';
import type { Db } from '@lt/db';
import type { Logger } from '@lt/logger';
import { createSubgraphServer, type SubgraphServer } from '@lt/server';
import { createResolvers } from './resolvers';

/** The streaming subgraph's SDL, composed via supergraph.yaml. */
export const streamingTypeDefs = readFileSync(new URL('../schema.graphql', import.meta.url), 'utf8');

export interface StreamingSubgraphDeps {
  db: Db;
  log: Logger;
  /** Shared with the router (ROUTER_CONTEXT_SECRET). */
  contextSecret: string;
}

/** Builds the streaming subgraph from injected dependencies; `index.ts` runs it. */
export function createStreamingSubgraph(deps: StreamingSubgraphDeps): SubgraphServer {
  return createSubgraphServer({
    name: 'streaming',
    typeDefs: streamingTypeDefs,
    resolvers: createResolvers(deps),
    contextSecret: deps.contextSecret,
    log: deps.log,
  });
}
