import { isRole } from '@lt/context';
import { unauthenticated } from '@lt/errors';
import type { Logger } from '@lt/logger';
import type { CognitoTokens } from '../cognito';
import { rateLimitKey } from '../data/rateLimit';
import { findUser, inScope, resolveMembership, type UserRow } from '../data/users';
import type { AuthServices } from '../deps';
import { requireCognito } from './cognito';
import { counted, limitAttempt } from './rateLimits';

/** The user row behind a Cognito `sub`; UNAUTHENTICATED when none (same words as a bad password). */
async function userOf(s: AuthServices, sub: string): Promise<UserRow> {
  const m = await resolveMembership(s.db, sub);
  if (!m || !isRole(m.role)) throw unauthenticated('Incorrect email or password');
  if (m.tenantStatus === 'SUSPENDED') throw unauthenticated('Tenant is suspended');
  const user = await inScope(s.db, m, (tx) => findUser(tx, m.userId));
  if (!user) throw unauthenticated('Incorrect email or password');
  return user;
}

/**
 * Counts the attempt under `first` (budget `perEmail`) and, with a client address, under
 * `address` (budget `perAddress`), then calls the identity provider (attempts failing because it
 * is down are taken back) and returns the tokens with the user behind them.
 */
async function signIn(
  s: AuthServices,
  first: string,
  address: string | null,
  log: Logger,
  call: () => Promise<CognitoTokens>,
): Promise<{ tokens: CognitoTokens; user: UserRow }> {
  const keys = [first];
  await limitAttempt(s, first, s.loginLimits.perEmail);
  if (address) {
    keys.push(address);
    await limitAttempt(s, address, s.loginLimits.perAddress);
  }
  const tokens = await counted(s, keys, log, call);
  return { tokens, user: await userOf(s, tokens.sub) };
}

/**
 * Password login (`email` already normalised). Both limits count every attempt before Cognito is
 * asked anything (concurrent guesses are bounded too): per e-mail and per client address.
 */
export function login(s: AuthServices, email: string, password: string, clientAddress: string | null, log: Logger) {
  return signIn(
    s,
    rateLimitKey('login-email', email),
    clientAddress ? rateLimitKey('login-address', clientAddress) : null,
    log,
    () => requireCognito(s).passwordAuth(email, password),
  );
}

/**
 * New tokens for a refresh token. A refresh token is refreshed a few times an hour; a flood of
 * one token or from one address is refused before Cognito is asked (same budgets as login).
 */
export function refreshSession(s: AuthServices, refreshToken: string, clientAddress: string | null, log: Logger) {
  return signIn(
    s,
    rateLimitKey('refresh-token', refreshToken),
    clientAddress ? rateLimitKey('refresh-address', clientAddress) : null,
    log,
    () => requireCognito(s).refresh(refreshToken),
  );
}
