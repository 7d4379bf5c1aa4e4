import { createHash } from 'node:crypto';
import { CognitoJwtVerifier } from 'aws-jwt-verify';
import { JwtVerifier } from 'aws-jwt-verify';
import { SimpleJwksCache } from 'aws-jwt-verify/jwk';
import type { JwtPayload } from 'aws-jwt-verify/jwt-model';

/** Verified claims the router uses from a Cognito access token. */
export interface AccessClaims {
  sub: string;
  /** `origin_jti` (shared by every access token refreshed from one login) else `jti`. */
  tokenId: string | null;
  exp: number;
  /** `iat`, epoch s (0 when absent: refused by any sign-out everywhere). */
  issuedAt: number;
}

export interface AccessTokenVerifier {
  verify(token: string): Promise<AccessClaims>;
  /** Loads the JWKS ahead of the first request (start-up). */
  hydrate(): Promise<void>;
  /** Fetches the JWKS now (readiness: the identity provider answers). */
  probe(): Promise<void>;
}

async function fetchOk(uri: string, timeoutMs: number): Promise<ArrayBuffer> {
  const res = await fetch(uri, { signal: AbortSignal.timeout(timeoutMs) });
  if (!res.ok) throw new Error(`JWKS ${uri}: HTTP ${res.status}`);
  return res.arrayBuffer();
}

/** The identity provider's JWKS could not be downloaded: not the token's fault (SERVICE_UNAVAILABLE). */
export class JwksUnavailableError extends Error {
  override readonly name = 'JwksUnavailableError';
}

/** How long after a failed JWKS download tokens needing it are refused without asking again, ms. */
const JWKS_RETRY_AFTER_MS = 1_000;

/**
 * The JWKS download of the verifiers: failures become {@link JwksUnavailableError}, and for a
 * second after one, requests needing the JWKS fail at once instead of each waiting for the
 * identity provider (aws-jwt-verify already shares one download among concurrent requests).
 * A JWKS once downloaded stays cached; it is fetched again only for an unknown `kid`.
 */
function jwksFetcher(timeoutMs: number): { fetch(uri: string): Promise<ArrayBuffer> } {
  let failedAt = -Infinity;
  return {
    async fetch(uri) {
      if (Date.now() - failedAt < JWKS_RETRY_AFTER_MS) throw new JwksUnavailableError(`JWKS ${uri} unavailable`);
      try {
        return await fetchOk(uri, timeoutMs);
      } catch (err) {
        failedAt = Date.now();
        throw new JwksUnavailableError(`JWKS ${uri}: ${(err as Error)?.message ?? 'failed'}`, { cause: err });
      }
    },
  };
}

export interface AccessTokenVerifierOptions {
  userPoolId: string;
  clientId: string;
  /** cognito-local (e.g. http://127.0.0.1:9229): generic verifier with issuer `<endpoint>/<pool>`. */
  endpoint?: string;
  /** Unused for the issuer (real Cognito pool ids start with their region); kept for symmetry with the SDK client. */
  region?: string;
  /** Overrides the expected issuer (cognito-local's COGNITO_ISSUER_DOMAIN + '/' + pool id). */
  issuer?: string;
  /** Clock skew tolerated on exp/nbf, seconds. Default 5. */
  graceSeconds?: number;
  /** Deadline of a JWKS download, ms. Default 3_000. */
  jwksTimeoutMs?: number;
  /**
   * How long a verified token's claims are reused without re-checking its signature, ms (expiry
   * is still checked on every use). Default 60_000; 0 verifies every time. Bounds how long a key
   * removed from the JWKS keeps working for tokens already seen.
   */
  verifiedCacheMs?: number;
  /** Tokens kept verified at most (oldest dropped). Default 10_000. */
  verifiedCacheMax?: number;
}

/** Named like aws-jwt-verify's, so failureReason() reports 'expired' for cached tokens too. */
class JwtExpiredError extends Error {}

/**
 * Remembers verified tokens (by SHA-256 of the exact token) for a short while: the RS256
 * signature check was ~5 % of the router's CPU per request, and the same token arrives on every
 * request of a client. Expiry (with the grace) is checked on every hit.
 */
function cacheVerified(
  verify: (token: string) => Promise<AccessClaims>,
  o: { ttlMs: number; max: number; graceSeconds: number },
): (token: string) => Promise<AccessClaims> {
  if (o.ttlMs <= 0) return verify;
  const cache = new Map<string, { claims: AccessClaims; until: number }>();
  return async (token) => {
    const key = createHash('sha256').update(token).digest('base64');
    const now = Date.now();
    const hit = cache.get(key);
    if (hit && hit.until > now) {
      if (now > (hit.claims.exp + o.graceSeconds) * 1000) throw new JwtExpiredError('Token expired');
      return hit.claims;
    }
    if (hit) cache.delete(key);
    const claims = await verify(token);
    if (cache.size >= o.max) cache.delete(cache.keys().next().value!);
    cache.set(key, { claims, until: now + o.ttlMs });
    return claims;
  };
}

function claims(payload: JwtPayload): AccessClaims {
  const tokenId =
    typeof payload['origin_jti'] === 'string'
      ? payload['origin_jti']
      : typeof payload.jti === 'string'
        ? payload.jti
        : null;
  if (typeof payload.sub !== 'string' || typeof payload.exp !== 'number') throw new Error('missing sub/exp');
  return { sub: payload.sub, tokenId, exp: payload.exp, issuedAt: typeof payload.iat === 'number' ? payload.iat : 0 };
}

/**
 * Verifies Cognito access tokens: RS256 signature against the pool's JWKS (cached, refetched when
 * an unknown `kid` shows up, with a penalty box against floods), issuer, `client_id`,
 * `token_use: access`, expiry with a small grace. `alg: none`, ID tokens, other pools' or other
 * clients' tokens all fail. Real Cognito uses `CognitoJwtVerifier`; cognito-local's `local_…` pool
 * ids and http JWKS need the generic verifier (`CognitoJwtVerifier` accepts only AWS-format pool
 * ids, `<region>_…`, and derives the AWS https issuer from them).
 */
export function createAccessTokenVerifier(o: AccessTokenVerifierOptions): AccessTokenVerifier {
  const graceSeconds = o.graceSeconds ?? 5;
  const timeoutMs = o.jwksTimeoutMs ?? 3_000;
  const cached = (verify: (t: string) => Promise<AccessClaims>) =>
    cacheVerified(verify, { ttlMs: o.verifiedCacheMs ?? 60_000, max: o.verifiedCacheMax ?? 10_000, graceSeconds });
  // aws-jwt-verify wants the raw body as an ArrayBuffer (scripts/services/README.md).
  const jwksCache = new SimpleJwksCache({ fetcher: jwksFetcher(timeoutMs) });
  if (!o.endpoint && !o.issuer) {
    const jwksUri = `https://cognito-idp.${o.userPoolId.split('_')[0]}.amazonaws.com/${o.userPoolId}/.well-known/jwks.json`;
    const v = CognitoJwtVerifier.create(
      {
        userPoolId: o.userPoolId,
        clientId: o.clientId,
        tokenUse: 'access',
        graceSeconds,
      },
      { jwksCache },
    );
    return {
      verify: cached(async (t) => claims(await v.verify(t))),
      hydrate: () => v.hydrate(),
      probe: async () => void (await fetchOk(jwksUri, timeoutMs)),
    };
  }
  const issuer = o.issuer ?? `${o.endpoint!.replace(/\/$/, '')}/${o.userPoolId}`;
  const jwksUri = `${issuer}/.well-known/jwks.json`;
  const v = JwtVerifier.create(
    {
      issuer,
      audience: null,
      jwksUri,
      graceSeconds,
      customJwtCheck: ({ payload }) => {
        if (payload['token_use'] !== 'access') throw new Error('not an access token');
        if (payload['client_id'] !== o.clientId) throw new Error('issued to another client');
      },
    },
    { jwksCache },
  );
  return {
    verify: cached(async (t) => claims(await v.verify(t))),
    hydrate: () => v.hydrate(),
    probe: async () => void (await fetchOk(jwksUri, timeoutMs)),
  };
}

/** Why a token was refused (metrics label; never sent to the client). */
export type AuthFailureReason =
  | 'malformed'
  | 'expired'
  | 'bad_signature'
  | 'wrong_issuer'
  | 'wrong_claims'
  | 'unknown_key'
  | 'jwks_unavailable'
  | 'revoked'
  | 'unknown_user'
  | 'tenant_suspended';

/** Maps aws-jwt-verify's error classes to a reason. */
export function failureReason(err: unknown): AuthFailureReason {
  const name = (err as { name?: string; constructor?: { name?: string } })?.constructor?.name ?? '';
  if (name === 'JwtExpiredError' || name === 'JwtNotBeforeError') return 'expired';
  if (name === 'JwtInvalidSignatureError' || name === 'JwtInvalidSignatureAlgorithmError') return 'bad_signature';
  if (name === 'JwtInvalidIssuerError') return 'wrong_issuer';
  if (name === 'KidNotFoundInJwksError' || name === 'JwkInvalidKtyError') return 'unknown_key';
  if (name === 'JwksUnavailableError' || name === 'JwksNotAvailableInCacheError' || name === 'FetchError')
    return 'jwks_unavailable';
  // The JWKS was downloaded and lacks the token's kid; a refetch is being held back.
  if (name === 'WaitPeriodNotYetEndedJwkError') return 'unknown_key';
  if (name === 'JwtParseError' || name === 'ParameterValidationError') return 'malformed';
  return 'wrong_claims';
}
