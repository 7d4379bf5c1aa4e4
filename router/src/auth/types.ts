import type { Membership } from '@lt/context';

/** What the router knows about the caller after checking the `Authorization` header. */
export interface Authenticated {
  membership: Membership;
  /** Token id (`jti`, else `origin_jti`), for revocation. */
  tokenId: string | null;
  /** Access token expiry, seconds since epoch. */
  expiresAt: number;
}

/**
 * Turns an `Authorization` value (HTTP header or `connectionParams.authorization`) into a
 * membership. Returns null when no credentials were sent; throws an UNAUTHENTICATED GraphQLError
 * when credentials were sent but are not acceptable (bad, expired, revoked, unknown user,
 * suspended tenant).
 */
export interface Authenticator {
  authenticate(authorization: string | undefined): Promise<Authenticated | null>;
}

/** No identity provider: every caller is anonymous (public operations only). */
export const anonymousAuthenticator: Authenticator = {
  authenticate: async () => null,
};
