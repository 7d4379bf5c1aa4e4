import { readFileSync } from 'node:fs';
import type { Redis } from 'ioredis';
import type { Db } from '@lt/db';
import type { IdentityInvalidation } from '@lt/identity';
import type { Logger } from '@lt/logger';
import { createSubgraphServer, type SubgraphServer } from '@lt/server';
import type { Cognito } from './cognito';
import { createResolvers } from './resolvers';

/** The auth subgraph's SDL, composed via supergraph.yaml. */
export const authTypeDefs = readFileSync(new URL('../schema.graphql', import.meta.url), 'utf8');

export interface AuthSubgraphDeps {
  db: Db;
  log: Logger;
  /** Shared with the router (ROUTER_CONTEXT_SECRET). */
  contextSecret: string;
  /** Cognito (cockatiel-wrapped). Without it, operations that need Cognito answer SERVICE_UNAVAILABLE. */
  cognito?: Cognito;
  /** Where role changes, removals and logouts are announced (router caches, open sockets). */
  identity?: IdentityInvalidation;
  /** Login rate limits are kept here; without it, in process (one replica only). */
  redis?: Redis;
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
