/** Tokens returned by login/refresh. `expiresIn` is seconds until the access token expires. */
export interface CognitoTokens {
  accessToken: string;
  idToken: string;
  refreshToken: string | null;
  expiresIn: number;
  /** Cognito `sub` of the user (from the access token). */
  sub: string;
}

/** Reads a JWT's payload without verifying it (only for tokens Cognito just handed us). */
export function decodeJwtPayload(token: string): Record<string, unknown> {
  const part = token.split('.')[1];
  if (!part) throw new Error('not a JWT');
  return JSON.parse(Buffer.from(part, 'base64url').toString('utf8')) as Record<string, unknown>;
}

export function tokensFrom(
  result: { AccessToken?: string; IdToken?: string; RefreshToken?: string; ExpiresIn?: number } | undefined,
  refreshToken: string | null,
  nowSeconds: number,
): CognitoTokens {
  if (!result?.AccessToken || !result.IdToken) throw new Error('Cognito returned no tokens');
  const claims = decodeJwtPayload(result.AccessToken);
  // cognito-local sends no ExpiresIn (real Cognito does): take it from `exp`.
  const exp = typeof claims['exp'] === 'number' ? claims['exp'] : nowSeconds + (result.ExpiresIn ?? 3600);
  return {
    accessToken: result.AccessToken,
    idToken: result.IdToken,
    refreshToken: result.RefreshToken ?? refreshToken,
    expiresIn: Math.max(0, exp - nowSeconds),
    sub: String(claims['sub']),
  };
}
