import { Role, type Membership } from '@lt/context';
import { withPlatform, withTenant } from '@lt/db';
import { badUserInput, conflict, forbidden, notFound } from '@lt/errors';
import {
  byId,
  clampFirst,
  decodeTimeIdCursor,
  encodeCursor,
  isUuid,
  loadBatched,
  requireMembership,
  requireRole,
  requireTenantMember,
  type SubgraphContext,
} from '@lt/server';
import { insertInvitation, newInvitationCode } from '../data/invitations';
import { emailRegistered, findUser, findUsers, inScope, pageUsers, updateRole, type UserRow } from '../data/users';
import { removeUserSaga } from '../sagas/removeUser';
import type { AuthServices } from '../services';

const EMAIL = /^[^\s@]{1,64}@[^\s@]{1,255}\.[^\s@]+$/;

/** me, inviteUser, changeUserRole, removeUser, User and Tenant.users. */
export function userResolvers(s: AuthServices) {
  return {
    Query: {
      async me(_: unknown, __: unknown, ctx: SubgraphContext) {
        const m = requireMembership(ctx);
        return inScope(s.db, m, (tx) => findUser(tx, m.userId));
      },
    },
    Mutation: {
      async inviteUser(
        _: unknown,
        { input }: { input: { email: string; role: Role; tenantId?: string | null } },
        ctx: SubgraphContext,
      ) {
        const m = requireRole(ctx, 'TENANT_ADMIN', 'PLATFORM_ADMIN');
        const tenantId = invitationTenant(m, input.tenantId ?? null);
        const email = input.email.trim().toLowerCase();
        if (!EMAIL.test(email)) throw badUserInput('Invalid email address', 'input.email');
        if (input.role === 'PLATFORM_ADMIN') throw badUserInput('Cannot invite a platform admin', 'input.role');
        if (await emailRegistered(s.db, email)) throw conflict('This email already has an account', 'input.email');
        const { code, codeHash } = newInvitationCode();
        const expiresAt = new Date(s.now() + s.invitationTtlSeconds * 1000);
        const run = m.role === 'PLATFORM_ADMIN' ? withPlatform : null;
        const invitation = run
          ? await withPlatform(
              s.db,
              async (tx) => {
                if (!(await tx.tenant.findUnique({ where: { id: tenantId }, select: { id: true } })))
                  throw notFound('Tenant', 'input.tenantId');
                return insertInvitation(tx, {
                  tenantId,
                  email,
                  role: input.role,
                  codeHash,
                  expiresAt,
                  createdById: m.userId,
                });
              },
              { tenantId },
            )
          : await withTenant(s.db, tenantId, (tx) =>
              insertInvitation(tx, { tenantId, email, role: input.role, codeHash, expiresAt, createdById: m.userId }),
            );
        ctx.log.info('invitation created', { invitationId: invitation.id, tenantId });
        return { code, email, role: invitation.role, expiresAt, tenant: { __typename: 'Tenant', id: tenantId } };
      },

      async changeUserRole(_: unknown, args: { userId: string; role: Role }, ctx: SubgraphContext) {
        requireRole(ctx, 'TENANT_ADMIN');
        const m = requireTenantMember(ctx);
        if (args.role === 'PLATFORM_ADMIN') throw badUserInput('Tenant users cannot be platform admins', 'role');
        if (args.userId === m.userId) throw badUserInput('You cannot change your own role', 'userId');
        // A non-UUID id names no user: NOT_FOUND, as every subgraph answers for ids.
        if (!isUuid(args.userId)) throw notFound('User', 'userId');
        const user = await withTenant(s.db, m.tenantId, async (tx) => {
          const u = await findUser(tx, args.userId);
          if (!u) throw notFound('User', 'userId');
          return u.role === args.role ? u : updateRole(tx, u.id, args.role);
        });
        await s.identity.publish({
          type: 'user.changed',
          userId: user.id,
          sub: user.cognitoSub,
          tenantId: user.tenantId,
          role: user.role,
        });
        return user;
      },

      async removeUser(_: unknown, args: { userId: string }, ctx: SubgraphContext) {
        requireRole(ctx, 'TENANT_ADMIN');
        const m = requireTenantMember(ctx);
        if (!isUuid(args.userId)) throw notFound('User', 'userId');
        return removeUserSaga(s, m, args.userId);
      },
    },
    User: {
      /** One query per request for all the User references it carries (loadBatched). */
      async __resolveReference(ref: { id: string }, ctx: SubgraphContext) {
        const m = ctx.caller.membership;
        if (!m || !isUuid(ref.id)) return null;
        return loadBatched(ctx, 'User', ref.id, (ids) => inScope(s.db, m, (tx) => findUsers(tx, ids)).then(byId));
      },
      tenant: (u: UserRow) => (u.tenantId ? { __typename: 'Tenant', id: u.tenantId } : null),
    },
    Tenant: {
      async users(t: { id: string }, args: { first?: number | null; after?: string | null }, ctx: SubgraphContext) {
        const m = requireRole(ctx, 'TENANT_ADMIN', 'PLATFORM_ADMIN');
        if (m.role !== 'PLATFORM_ADMIN' && m.tenantId !== t.id) throw notFound('Tenant');
        const first = clampFirst(args.first);
        const c = args.after ? decodeTimeIdCursor(args.after) : null;
        const after: [string, string] | null = c ? [c.at.toISOString(), c.id] : null;
        // The caller's tenant, not the requested one: RLS backs the check above. A platform admin
        // has no tenant and reads the one it names.
        const scope = m.role === 'PLATFORM_ADMIN' ? t.id : requireTenantMember(ctx).tenantId;
        const page = await withTenant(s.db, scope, (tx) => pageUsers(tx, t.id, first, after));
        const edges = page.rows.map((u) => ({ cursor: encodeCursor([u.createdAt.toISOString(), u.id]), node: u }));
        return {
          edges,
          totalCount: page.totalCount,
          pageInfo: { hasNextPage: page.hasNextPage, endCursor: edges.at(-1)?.cursor ?? null },
        };
      },
    },
  };
}

/** TENANT_ADMIN: own tenant only; PLATFORM_ADMIN: must name one. */
function invitationTenant(m: Membership, requested: string | null): string {
  if (m.role === 'PLATFORM_ADMIN') {
    if (!requested) throw badUserInput('tenantId is required for platform admins', 'input.tenantId');
    if (!isUuid(requested)) throw notFound('Tenant', 'input.tenantId');
    return requested;
  }
  if (!m.tenantId) throw forbidden();
  if (requested && requested !== m.tenantId) throw notFound('Tenant', 'input.tenantId');
  return m.tenantId;
}
