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

/** What resolvers use, built once by `createAuthSubgraph`. */
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
