import { serviceUnavailable, unauthenticated } from '@lt/errors';
import type { Authenticated, Authenticator } from './types';
import type { MembershipResolver } from './membership';
import { failureReason, type AccessTokenVerifier, type AuthFailureReason } from './verifier';

export interface CognitoAuthenticatorOptions {
  verifier: AccessTokenVerifier;
  memberships: MembershipResolver;
  /** Counts refusals by reason (metrics). */
  onFailure?: (reason: AuthFailureReason) => void;
}

/** A usable `sub` (Cognito's are UUIDs): printable, bounded. A NUL would reach Postgres (22021). */
// eslint-disable-next-line no-control-regex
const SUB = /^[^\u0000-\u001f\u007f]{1,128}$/;
/**
 * SERVICE_UNAVAILABLE with `Retry-After: 1` (nothing was executed). HTTP 200 like every other
 * GraphQL error (graphql-over-http with application/json): the code, not the status, tells the
 * client what happened, and proxies do not mistake the router itself for being down.
 */
export function unavailable(message?: string) {
  const err = serviceUnavailable(message);
  Object.assign(err.extensions, { http: { status: 200, headers: new Map([['retry-after', '1']]) } });
  return err;
}

const BEARER = /^Bearer\s+([A-Za-z0-9_-]+\.[A-Za-z0-9_-]*\.[A-Za-z0-9_-]*)\s*$/i;

/**
 * Cognito access token → verified membership. A pure function of the authorization string (no
 * HTTP), so the WebSocket engine uses it for `connectionParams.authorization` too. Every refusal
 * is the same UNAUTHENTICATED error: the reason goes to metrics, never to the client. A JWKS that
 * cannot be downloaded is SERVICE_UNAVAILABLE (the token is not at fault).
 */
export function createCognitoAuthenticator(o: CognitoAuthenticatorOptions): Authenticator {
  const refuse = (reason: AuthFailureReason): never => {
    o.onFailure?.(reason);
    const err = unauthenticated('Invalid or expired credentials');
    // Apollo Server uses (and strips) extensions.http: the HTTP answer is a 401.
    Object.assign(err.extensions, { http: { status: 401 } });
    throw err;
  };
  return {
    async authenticate(authorization): Promise<Authenticated | null> {
      if (authorization === undefined || authorization.trim() === '') return null;
      const token = BEARER.exec(authorization)?.[1];
      if (!token) return refuse('malformed');
      let claims;
      try {
        claims = await o.verifier.verify(token);
      } catch (err) {
        const reason = failureReason(err);
        if (reason === 'jwks_unavailable') {
          // The identity provider's keys cannot be had: the token may well be valid. Retry shortly.
          o.onFailure?.(reason);
          throw unavailable('Identity provider unavailable; retry shortly');
        }
        return refuse(reason);
      }
      // Signed by the pool yet unusable as an identity: refused like any bad claim, never a 500.
      if (!SUB.test(claims.sub)) return refuse('wrong_claims');
      const r = await o.memberships.resolve(claims.sub, claims.tokenId, claims.exp, claims.issuedAt);
      switch (r.kind) {
        case 'revoked':
          return refuse('revoked');
        case 'unknown_user':
          return refuse('unknown_user');
        case 'ok':
          if (r.membership.tenantStatus === 'SUSPENDED') return refuse('tenant_suspended');
          return { membership: r.membership, tokenId: claims.tokenId, expiresAt: claims.exp };
        default: {
          const never: never = r;
          return never;
        }
      }
    },
  };
}
