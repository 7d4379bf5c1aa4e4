import { randomUUID } from 'node:crypto';
import { withTenant } from '@lt/db';
import { badUserInput, notFound, serviceUnavailable } from '@lt/errors';
import type { TenantMembership } from '@lt/server';
import { signOutEverywhere } from '../data/revocations';
import { deleteUser, findUser } from '../data/users';
import type { AuthServices } from '../deps';

/**
 * removeUser = delete the row and, inside the same still-open transaction, delete the Cognito user:
 * if Cognito fails the transaction rolls back (the row stays and so does the Cognito user), and the
 * row is gone only once the Cognito user is. Then every router drops the membership (user.changed
 * with role null). If the commit fails after the Cognito delete, the user is signed out everywhere
 * (their tokens would otherwise keep working through the remaining row until a retry). Logged step
 * by step with a saga id.
 */
export async function removeUserSaga(s: AuthServices, admin: TenantMembership, userId: string): Promise<boolean> {
  if (userId === admin.userId) throw badUserInput('You cannot remove yourself', 'userId');
  if (!s.cognito) throw serviceUnavailable('Identity provider not configured');
  const cognito = s.cognito;
  const sagaId = randomUUID();
  const log = s.log.child({ saga: 'removeUser', sagaId, userId });
  let deletedSub: string | null = null;
  let removed: NonNullable<Awaited<ReturnType<typeof findUser>>>;
  try {
    removed = await withTenant(
      s.db,
      admin.tenantId,
      async (tx) => {
        const user = await findUser(tx, userId);
        if (!user) throw notFound('User', 'userId');
        await deleteUser(tx, user.id);
        log.info('step: user row deleted (uncommitted)');
        await s.afterStep('removeUser.user_deleted');
        await cognito.adminDeleteUser(user.cognitoSub);
        deletedSub = user.cognitoSub;
        log.info('step: cognito user deleted');
        await s.afterStep('removeUser.cognito_deleted');
        return user;
      },
      { timeoutMs: 20_000 },
    );
  } catch (err) {
    // The Cognito user is gone but the row stayed (the commit failed): its tokens must not keep
    // working through the remaining row until the admin retries (the retry converges: deleting a
    // missing Cognito user succeeds). Best effort: the original error is what the caller gets.
    if (deletedSub !== null) {
      const sub: string = deletedSub;
      log.warn('commit failed after the Cognito user was deleted: signing the user out everywhere', { sub });
      const before = Math.floor(s.now() / 1000);
      // Each on its own: the database may be what failed the commit.
      await signOutEverywhere(s.db, sub, before).catch((e: unknown) =>
        log.error('durable sign-out after a failed removal', { err: e }),
      );
      await s.identity
        .publish({ type: 'user.signed_out', sub, before })
        .catch((e: unknown) => log.error('sign-out after a failed removal', { err: e }));
    }
    throw err;
  }
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
