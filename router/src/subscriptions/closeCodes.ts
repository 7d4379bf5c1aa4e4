/**
 * WebSocket close codes the subscription engine uses beyond graphql-ws's own (4400, 4401, 4403,
 * 4406, 4408, 4409, 4429, 4500). The reason text says which case it was. graphql-ws clients
 * treat 4401/4403 as fatal (get a new token first) and retry on the others.
 */
export const EngineClose = {
  /** Token expired, revoked (logout), user removed or changed, tenant suspended. */
  UNAUTHORIZED: 4401,
  /** Authenticated, but subscriptions need a tenant user. */
  FORBIDDEN: 4403,
  /** The client did not read fast enough: its socket held too many unsent bytes (retry, then resync). */
  SLOW_CONSUMER: 4008,
  /** The router could not check the token right now (cache or database unavailable): retry. */
  TRY_AGAIN_LATER: 1013,
  /** Router shutting down. */
  GOING_AWAY: 1001,
} as const;

export const CloseReason = {
  TOKEN_EXPIRED: 'Token expired',
  TOKEN_REVOKED: 'Token revoked',
  MEMBERSHIP_CHANGED: 'Membership changed',
  USER_REMOVED: 'User removed',
  TENANT_SUSPENDED: 'Tenant suspended',
  UNAUTHENTICATED: 'Unauthorized',
  NEEDS_TENANT: 'Forbidden: subscriptions need a tenant user',
  SLOW_CONSUMER: 'Slow consumer: too many unsent results',
  TRY_AGAIN_LATER: 'Try again later',
} as const;
