import type { Role } from '@lt/context';
import { badUserInput, notFound, unauthenticated } from '@lt/errors';
import { isUuid, requireRole, requireTenantMember, type SubgraphContext } from '@lt/server';
import { rateLimitKey } from '../data/rateLimit';
import type { AuthServices } from '../deps';
import { changeUserRole } from '../useCases/changeUserRole';
import { inviteUser } from '../useCases/inviteUser';
import { login, refreshSession } from '../useCases/login';
import { logout } from '../useCases/logout';
import { limitAttempt } from '../useCases/rateLimits';
import { registerSaga } from '../useCases/register';
import { removeUserSaga } from '../useCases/removeUser';
import { authPayload } from './payload';

const EMAIL = /^[^\s@]{1,64}@[^\s@]{1,255}$/;

/**
 * Public session operations (login, refreshToken, register, logout) and user administration
 * (inviteUser, changeUserRole, removeUser). Rate limits (fixed windows, Redis across replicas):
 * login per e-mail and per address; refresh per refresh token and per address; register per address.
 */
export function createMutationResolvers(s: AuthServices) {
  return {
    async login(_: unknown, args: { email: string; password: string }, ctx: SubgraphContext) {
      const email = args.email.trim().toLowerCase();
      if (!EMAIL.test(email)) throw badUserInput('Invalid email address', 'email');
      const { tokens, user } = await login(s, email, args.password, ctx.caller.clientAddress, ctx.log);
      return authPayload(tokens, user);
    },

    async refreshToken(_: unknown, args: { refreshToken: string }, ctx: SubgraphContext) {
      if (args.refreshToken.length === 0 || args.refreshToken.length > 8_192)
        throw badUserInput('Invalid refresh token', 'refreshToken');
      const { tokens, user } = await refreshSession(s, args.refreshToken, ctx.caller.clientAddress, ctx.log);
      return authPayload(tokens, user);
    },

    async register(
      _: unknown,
      args: { input: { invitationCode: string; email: string; password: string } },
      ctx: SubgraphContext,
    ) {
      if (!EMAIL.test(args.input.email.trim())) throw badUserInput('Invalid email address', 'email');
      // Guessing invitation codes is bounded per client address, counted before any lookup.
      if (ctx.caller.clientAddress)
        await limitAttempt(s, rateLimitKey('register-address', ctx.caller.clientAddress), s.loginLimits.perAddress);
      const { user, tokens } = await registerSaga(s, args.input);
      return authPayload(tokens, user);
    },

    logout(_: unknown, args: { refreshToken?: string | null }, ctx: SubgraphContext) {
      const m = ctx.caller.membership;
      if (!m) throw unauthenticated();
      return logout(s, { ...ctx.caller, membership: m }, args.refreshToken, ctx.log);
    },

    async inviteUser(
      _: unknown,
      { input }: { input: { email: string; role: Role; tenantId?: string | null } },
      ctx: SubgraphContext,
    ) {
      const m = requireRole(ctx, 'TENANT_ADMIN', 'PLATFORM_ADMIN');
      const { tenantId, ...invitation } = await inviteUser(s, m, input, ctx.log);
      return { ...invitation, tenant: { __typename: 'Tenant', id: tenantId } };
    },

    changeUserRole(_: unknown, args: { userId: string; role: Role }, ctx: SubgraphContext) {
      requireRole(ctx, 'TENANT_ADMIN');
      const m = requireTenantMember(ctx);
      if (args.role === 'PLATFORM_ADMIN') throw badUserInput('Tenant users cannot be platform admins', 'role');
      if (args.userId === m.userId) throw badUserInput('You cannot change your own role', 'userId');
      // A non-UUID id names no user: NOT_FOUND, as every subgraph answers for ids.
      if (!isUuid(args.userId)) throw notFound('User', 'userId');
      return changeUserRole(s, m, args.userId, args.role);
    },

    removeUser(_: unknown, args: { userId: string }, ctx: SubgraphContext) {
      requireRole(ctx, 'TENANT_ADMIN');
      const m = requireTenantMember(ctx);
      if (!isUuid(args.userId)) throw notFound('User', 'userId');
      return removeUserSaga(s, m, args.userId);
    },
  };
}
