import { isRole } from '@lt/context';
import { GraphQLError } from 'graphql';
import { badUserInput, ErrorCode, rateLimited, serviceUnavailable, unauthenticated } from '@lt/errors';
import type { SubgraphContext } from '@lt/server';
import { rateLimitKey } from '../data/rateLimit';
import { revokeTokenFamily, signOutEverywhere } from '../data/revocations';
import { findUser, inScope, resolveMembership, type UserRow } from '../data/users';
import { registerSaga } from '../sagas/register';
import type { AuthServices } from '../services';
import { authPayload } from './payload';

const EMAIL = /^[^\s@]{1,64}@[^\s@]{1,255}$/;

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
 * Public session operations: login, refreshToken, register, plus logout. Rate limits (fixed
 * windows, Redis across replicas): login per e-mail and per address; refresh per refresh token and
 * per address; register per address.
 */
export function sessionResolvers(s: AuthServices) {
  const cognito = () => {
    if (!s.cognito) throw serviceUnavailable('Identity provider not configured');
    return s.cognito;
  };
  const limit = async (key: string, max: number) => {
    const r = await s.limiter.hit(key, max, s.loginLimits.windowSeconds);
    if (!r.allowed) throw rateLimited(r.retryAfterSeconds);
  };
  /**
   * Runs an identity-provider call whose attempt was counted under `keys`: when it fails for a
   * reason that is not the caller's (Cognito down or throttling: anything but UNAUTHENTICATED),
   * the attempt is taken back, so an outage does not lock users out once Cognito returns.
   */
  const counted = async <T>(keys: string[], ctx: SubgraphContext, call: () => Promise<T>): Promise<T> => {
    try {
      return await call();
    } catch (err) {
      const code = err instanceof GraphQLError ? err.extensions['code'] : undefined;
      if (code !== ErrorCode.UNAUTHENTICATED && code !== ErrorCode.BAD_USER_INPUT)
        await Promise.all(keys.map((k) => s.limiter.refund(k))).catch((e: unknown) =>
          ctx.log.warn('rate limit refund failed', { err: e }),
        );
      throw err;
    }
  };
  return {
    async login(_: unknown, args: { email: string; password: string }, ctx: SubgraphContext) {
      const email = args.email.trim().toLowerCase();
      if (!EMAIL.test(email)) throw badUserInput('Invalid email address', 'email');
      // Both limits count every attempt before Cognito is asked anything (concurrent guesses are
      // bounded too); attempts that fail because Cognito is down are taken back (`counted`).
      const keys = [rateLimitKey('login-email', email)];
      await limit(keys[0]!, s.loginLimits.perEmail);
      if (ctx.caller.clientAddress) {
        keys.push(rateLimitKey('login-address', ctx.caller.clientAddress));
        await limit(keys[1]!, s.loginLimits.perAddress);
      }
      const tokens = await counted(keys, ctx, () => cognito().passwordAuth(email, args.password));
      return authPayload(tokens, await userOf(s, tokens.sub));
    },

    async refreshToken(_: unknown, args: { refreshToken: string }, ctx: SubgraphContext) {
      if (args.refreshToken.length === 0 || args.refreshToken.length > 8_192)
        throw badUserInput('Invalid refresh token', 'refreshToken');
      // A refresh token is refreshed a few times an hour; a flood of one token or from one
      // address is refused before Cognito is asked (same budgets as login).
      const keys = [rateLimitKey('refresh-token', args.refreshToken)];
      await limit(keys[0]!, s.loginLimits.perEmail);
      if (ctx.caller.clientAddress) {
        keys.push(rateLimitKey('refresh-address', ctx.caller.clientAddress));
        await limit(keys[1]!, s.loginLimits.perAddress);
      }
      const tokens = await counted(keys, ctx, () => cognito().refresh(args.refreshToken));
      return authPayload(tokens, await userOf(s, tokens.sub));
    },

    async register(
      _: unknown,
      args: { input: { invitationCode: string; email: string; password: string } },
      ctx: SubgraphContext,
    ) {
      if (!EMAIL.test(args.input.email.trim())) throw badUserInput('Invalid email address', 'email');
      // Guessing invitation codes is bounded per client address, counted before any lookup.
      if (ctx.caller.clientAddress)
        await limit(rateLimitKey('register-address', ctx.caller.clientAddress), s.loginLimits.perAddress);
      const { user, tokens } = await registerSaga(s, args.input);
      return authPayload(tokens, user);
    },

    /**
     * Revokes the caller's token family at every router (within a second, through the identity bus)
     * and at Cognito: the given refresh token (RevokeToken), else — sign-out everywhere — every
     * token of the user issued until now at every router, and every refresh token at Cognito
     * (global sign-out; cognito-local lacks it, which is logged and skipped). All or nothing: a
     * refresh token Cognito refuses is BAD_USER_INPUT and revokes nothing (the access token keeps
     * working); Cognito is asked before anything is revoked here.
     */
    async logout(_: unknown, args: { refreshToken?: string | null }, ctx: SubgraphContext) {
      const m = ctx.caller.membership;
      if (!m) throw unauthenticated();
      const { tokenId, tokenExpiresAt } = ctx.caller;
      const revokeAccessToken = async () => {
        if (!tokenId || !tokenExpiresAt) return;
        // Durable first (a Redis flush must not bring the token back), then announced.
        await revokeTokenFamily(s.db, tokenId, m.sub, tokenExpiresAt);
        await s.identity.publish({ type: 'token.revoked', tokenId, sub: m.sub, expiresAt: tokenExpiresAt });
      };
      const refresh = args.refreshToken;
      if (refresh !== null && refresh !== undefined) {
        if (refresh.length === 0 || refresh.length > 8_192) throw badUserInput('Invalid refresh token', 'refreshToken');
        try {
          await cognito().revokeToken(refresh);
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
        await cognito()
          .adminUserGlobalSignOut(m.sub)
          .catch((err: unknown) => {
            if ((err as { cause?: { name?: string } }).cause?.name !== 'Unsupported') throw err;
            ctx.log.warn('global sign-out not supported by this Cognito; refresh tokens stay valid');
          });
        await signOutEverywhere(s.db, m.sub, before);
        await revokeAccessToken();
        await s.identity.publish({ type: 'user.signed_out', sub: m.sub, before });
      }
      ctx.log.info('logged out', { userId: m.userId });
      return true;
    },
  };
}
