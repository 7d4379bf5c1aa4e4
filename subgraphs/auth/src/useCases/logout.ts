import type { Membership } from '@lt/context';
import { badUserInput } from '@lt/errors';
import type { Logger } from '@lt/logger';
import { revokeTokenFamily, signOutEverywhere } from '../data/revocations';
import type { AuthServices } from '../deps';
import { requireCognito } from './cognito';

export interface LogoutCaller {
  membership: Membership;
  /** The access token's id and expiry (absent: nothing of it to revoke). */
  tokenId?: string | null;
  tokenExpiresAt?: number | null;
}

/**
 * Revokes the caller's token family at every router (within a second, through the identity bus)
 * and at Cognito: the given refresh token (RevokeToken), else — sign-out everywhere — every
 * token of the user issued until now at every router, and every refresh token at Cognito
 * (global sign-out; cognito-local lacks it, which is logged and skipped). All or nothing: a
 * refresh token Cognito refuses is BAD_USER_INPUT and revokes nothing (the access token keeps
 * working); Cognito is asked before anything is revoked here.
 */
export async function logout(
  s: AuthServices,
  caller: LogoutCaller,
  refresh: string | null | undefined,
  log: Logger,
): Promise<true> {
  const m = caller.membership;
  const { tokenId, tokenExpiresAt } = caller;
  const revokeAccessToken = async () => {
    if (!tokenId || !tokenExpiresAt) return;
    // Durable first (a Redis flush must not bring the token back), then announced.
    await revokeTokenFamily(s.db, tokenId, m.sub, tokenExpiresAt);
    await s.identity.publish({ type: 'token.revoked', tokenId, sub: m.sub, expiresAt: tokenExpiresAt });
  };
  if (refresh !== null && refresh !== undefined) {
    if (refresh.length === 0 || refresh.length > 8_192) throw badUserInput('Invalid refresh token', 'refreshToken');
    try {
      await requireCognito(s).revokeToken(refresh);
    } catch (err) {
      const code = (err as { extensions?: { code?: unknown } }).extensions?.code;
      if (code === 'UNAUTHENTICATED' || code === 'BAD_USER_INPUT')
        throw badUserInput('Invalid refresh token', 'refreshToken');
      throw err;
    }
    await revokeAccessToken();
  } else {
    // Sign-out everywhere: Cognito first (an unavailable one fails the logout before anything
    // changed), then every router refuses the user's tokens issued until now (other devices
    // too), whether or not the identity provider revokes them itself.
    const before = Math.floor(s.now() / 1000);
    await requireCognito(s)
      .adminUserGlobalSignOut(m.sub)
      .catch((err: unknown) => {
        if ((err as { cause?: { name?: string } }).cause?.name !== 'Unsupported') throw err;
        log.warn('global sign-out not supported by this Cognito; refresh tokens stay valid');
      });
    await signOutEverywhere(s.db, m.sub, before);
    await revokeAccessToken();
    await s.identity.publish({ type: 'user.signed_out', sub: m.sub, before });
  }
  log.info('logged out', { userId: m.userId });
  return true;
}
