import { randomUUID } from 'node:crypto';
import { withTenant } from '@lt/db';
import { badUserInput, notFound, serviceUnavailable } from '@lt/errors';
import type { TenantMembership } from '@lt/server';
import { deleteUser, findUser } from '../data/users';
import type { AuthServices } from '../services';

/**
 * removeUser = delete the row and, inside the same still-open transaction, delete the Cognito user:
 * if Cognito fails the transaction rolls back (the row stays and so does the Cognito user), and the
 * row is gone only once the Cognito user is. Then every router drops the membership (user.changed
 * with role null). Logged step by step with a saga id.
 */
export async function removeUserSaga(s: AuthServices, admin: TenantMembership, userId: string): Promise<boolean> {
  if (userId === admin.userId) throw badUserInput('You cannot remove yourself', 'userId');
  if (!s.cognito) throw serviceUnavailable('Identity provider not configured');
  const cognito = s.cognito;
  const sagaId = randomUUID();
  const log = s.log.child({ saga: 'removeUser', sagaId, userId });
  const removed = await withTenant(
    s.db,
    admin.tenantId,
    async (tx) => {
      const user = await findUser(tx, userId);
      if (!user) throw notFound('User', 'userId');
      await deleteUser(tx, user.id);
      log.info('step: user row deleted (uncommitted)');
      await s.afterStep('removeUser.user_deleted');
      await cognito.adminDeleteUser(user.cognitoSub);
      log.info('step: cognito user deleted');
      await s.afterStep('removeUser.cognito_deleted');
      return user;
    },
    { timeoutMs: 20_000 },
  );
  log.info('done');
  await s.identity.publish({
    type: 'user.changed',
    userId: removed.id,
    sub: removed.cognitoSub,
    tenantId: removed.tenantId,
    role: null,
  });
  return true;
}
