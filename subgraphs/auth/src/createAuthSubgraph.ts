import { readFileSync } from 'node:fs';
import { createMemoryIdentityBus } from '@lt/identity';
import { createSubgraphServer, type SubgraphServer } from '@lt/server';
import { createMemoryRateLimiter, createRedisRateLimiter } from './data/rateLimit';
import type { AuthServices, AuthSubgraphDeps } from './deps';
import { createResolvers } from './resolvers';

/** The auth subgraph's SDL, composed via supergraph.yaml. */
export const authTypeDefs = readFileSync(new URL('../schema.graphql', import.meta.url), 'utf8');

/** Builds the auth subgraph from injected dependencies; `index.ts` runs it. */
export function createAuthSubgraph(deps: AuthSubgraphDeps): SubgraphServer {
  const services: AuthServices = {
    db: deps.db,
    log: deps.log,
    cognito: deps.cognito ?? null,
    identity: deps.identity ?? createMemoryIdentityBus(),
    limiter: deps.redis ? createRedisRateLimiter(deps.redis) : createMemoryRateLimiter(),
    now: deps.now ?? Date.now,
    invitationTtlSeconds: deps.invitationTtlSeconds ?? 7 * 24 * 3600,
    loginLimits: { perEmail: 10, perAddress: 50, windowSeconds: 300, ...deps.loginLimits },
    afterStep: deps.afterSagaStep ?? (() => undefined),
  };
  return createSubgraphServer({
    name: 'auth',
    typeDefs: authTypeDefs,
    resolvers: createResolvers(services) as never,
    contextSecret: deps.contextSecret,
    log: deps.log,
  });
}

export type { AuthSubgraphDeps, SagaStep } from './deps';
export { Cognito, type CognitoOptions } from './cognito';
export { bootstrapPlatformAdmin, type BootstrapAdminOptions } from './useCases/bootstrapPlatformAdmin';
