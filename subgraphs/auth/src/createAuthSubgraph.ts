import { readFileSync } from 'node:fs';
import type { Redis } from 'ioredis';
import type { Db } from '@lt/db';
import { createMemoryIdentityBus, type IdentityInvalidation } from '@lt/identity';
import type { Logger } from '@lt/logger';
import { createSubgraphServer, type SubgraphServer } from '@lt/server';
import type { Cognito } from './cognito';
import { createMemoryRateLimiter, createRedisRateLimiter } from './data/rateLimit';
import { createResolvers } from './resolvers';
import type { AuthServices, SagaStep } from './services';

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
  /** Invitation lifetime, seconds. Default 7 days. */
  invitationTtlSeconds?: number;
  /** Login attempts per e-mail / per client address per window. Defaults 10 / 50 per 300 s. */
  loginLimits?: Partial<AuthServices['loginLimits']>;
  /** Test hook: runs after each saga step; throwing injects a failure there. */
  afterSagaStep?: (step: SagaStep) => void | Promise<void>;
  now?: () => number;
}

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

export { Cognito, type CognitoOptions } from './cognito';
export type { SagaStep } from './services';
export { bootstrapPlatformAdmin, type BootstrapAdminOptions } from './bootstrap';
