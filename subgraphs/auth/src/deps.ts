import type { Redis } from 'ioredis';
import type { Db } from '@lt/db';
import type { IdentityInvalidation } from '@lt/identity';
import type { Logger } from '@lt/logger';
import type { Cognito } from './cognito';
import type { RateLimiter } from './data/rateLimit';

/** A saga step that just completed; tests inject failures by throwing from {@link AuthServices.afterStep}. */
export type SagaStep =
  | 'register.invitation_checked'
  | 'register.cognito_signed_up'
  | 'register.cognito_confirmed'
  | 'register.user_created'
  | 'removeUser.user_deleted'
  | 'removeUser.cognito_deleted';

/** What resolvers and use cases use, built once by `createAuthSubgraph`. */
export interface AuthServices {
  db: Db;
  log: Logger;
  cognito: Cognito | null;
  identity: IdentityInvalidation;
  limiter: RateLimiter;
  now: () => number;
  invitationTtlSeconds: number;
  /**
   * Attempts per window: `perEmail` bounds logins per e-mail and refreshes per refresh token;
   * `perAddress` bounds logins, refreshes and registrations per client address (each counted
   * separately).
   */
  loginLimits: { perEmail: number; perAddress: number; windowSeconds: number };
  afterStep: (step: SagaStep) => void | Promise<void>;
}

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
