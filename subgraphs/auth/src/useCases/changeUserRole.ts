import type { Role } from '@lt/context';
import { withTenant } from '@lt/db';
import { notFound } from '@lt/errors';
import type { TenantMembership } from '@lt/server';
import { findUser, updateRole, type UserRow } from '../data/users';
import type { AuthServices } from '../deps';

/**
 * Sets a user's role in the admin's tenant (unchanged when it already has it), then announces it
 * to every router (cached memberships, open sockets). NOT_FOUND for a user not in the tenant.
 */
export async function changeUserRole(
  s: AuthServices,
  admin: TenantMembership,
  userId: string,
  role: Role,
): Promise<UserRow> {
  const user = await withTenant(s.db, admin.tenantId, async (tx) => {
    const u = await findUser(tx, userId);
    if (!u) throw notFound('User', 'userId');
    return u.role === role ? u : updateRole(tx, u.id, role);
  });
  await s.identity.publish({
    type: 'user.changed',
    userId: user.id,
    sub: user.cognitoSub,
    tenantId: user.tenantId,
    role: user.role,
  });
  return user;
}
