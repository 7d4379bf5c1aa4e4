import { readFileSync } from 'node:fs';
import type { Db } from '@lt/db';
import type { Logger } from '@lt/logger';
import { createSubgraphServer, type SubgraphServer } from '@lt/server';
import { createResolvers } from './resolvers';

/** The auth subgraph's SDL, composed via supergraph.yaml. */
export const authTypeDefs = readFileSync(new URL('../schema.graphql', import.meta.url), 'utf8');

export interface AuthSubgraphDeps {
  db: Db;
  log: Logger;
  /** Shared with the router (ROUTER_CONTEXT_SECRET). */
  contextSecret: string;
}

/** Builds the auth subgraph from injected dependencies; `index.ts` runs it. */
export function createAuthSubgraph(deps: AuthSubgraphDeps): SubgraphServer {
  return createSubgraphServer({
    name: 'auth',
    typeDefs: authTypeDefs,
    resolvers: createResolvers(deps),
    contextSecret: deps.contextSecret,
    log: deps.log,
  });
}
