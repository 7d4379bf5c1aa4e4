/**
 * The one place Redis keys and channels of identity state are built: nobody formats
 * them by hand. All keys share the `identity:` prefix; none is tenant data, but the tenant index
 * names its tenant explicitly.
 */
export const identityKeys = {
  /** Cached membership of a Cognito `sub` (JSON). TTL ≤ the token that filled it. */
  membership: (sub: string): string => `identity:membership:${sub}`,
  /** Present while a revoked token (its `origin_jti`/`jti`) would still be valid. */
  revoked: (tokenId: string): string => `identity:revoked:${tokenId}`,
  /**
   * Epoch seconds of the user's last sign-out everywhere: their tokens issued at or before it are
   * refused. Kept for a day (the longest Cognito access-token lifetime).
   */
  signedOut: (sub: string): string => `identity:signedout:${sub}`,
  /** Set of `sub`s whose membership is cached for a tenant (to drop them when it is suspended). */
  tenantSubs: (tenantId: string): string => `identity:tenant:${tenantId}:subs`,
  /** Pub/sub channel every router replica listens on. */
  channel: 'identity:events',
} as const;
