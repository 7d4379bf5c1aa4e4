import { randomUUID } from 'node:crypto';
import { isUniqueViolation, withTenant } from '@lt/db';
import { badUserInput, conflict, serviceUnavailable } from '@lt/errors';
import type { CognitoTokens } from '../cognito';
import { consumeInvitation, findInvitationByCode, releaseInvitation } from '../data/invitations';
import { deleteUser, insertUser, type UserRow } from '../data/users';
import type { AuthServices } from '../deps';

export interface RegisterInput {
  invitationCode: string;
  email: string;
  password: string;
}

/**
 * register = invitation check → Cognito SignUp → confirm → users row (+ invitation consumed, one
 * transaction) → login. Every failure after SignUp compensates in reverse (delete the row and
 * release the invitation, delete the Cognito user), so neither side keeps an orphan. Each step is
 * logged with the saga id (never the password or tokens).
 */
export async function registerSaga(
  s: AuthServices,
  input: RegisterInput,
): Promise<{ user: UserRow; tokens: CognitoTokens }> {
  const sagaId = randomUUID();
  const log = s.log.child({ saga: 'register', sagaId });
  const email = input.email.trim().toLowerCase();
  const invitation = await findInvitationByCode(s.db, input.invitationCode.trim());
  if (
    !invitation ||
    invitation.usedAt ||
    invitation.expiresAt.getTime() <= s.now() ||
    invitation.tenantStatus !== 'ACTIVE'
  ) {
    log.info('refused: invitation not usable');
    throw badUserInput('Invalid or expired invitation code', 'invitationCode');
  }
  if (invitation.email !== email) throw badUserInput('This invitation is for another email address', 'email');
  if (!s.cognito) throw serviceUnavailable('Identity provider not configured');
  const cognito = s.cognito;
  log.info('step: invitation checked', { invitationId: invitation.id, tenantId: invitation.tenantId });
  await s.afterStep('register.invitation_checked');

  const compensations: { name: string; run: () => Promise<void> }[] = [];
  const sub = await cognito.signUp(email, input.password);
  compensations.push({ name: 'cognito.adminDeleteUser', run: () => cognito.adminDeleteUser(sub) });
  log.info('step: cognito user created', { sub });
  try {
    await s.afterStep('register.cognito_signed_up');
    await cognito.adminConfirmSignUp(sub);
    log.info('step: cognito user confirmed');
    await s.afterStep('register.cognito_confirmed');

    const user = await withTenant(s.db, invitation.tenantId, async (tx) => {
      if (!(await consumeInvitation(tx, invitation.id, new Date(s.now())))) {
        throw badUserInput('Invalid or expired invitation code', 'invitationCode');
      }
      return insertUser(tx, { cognitoSub: sub, email, tenantId: invitation.tenantId, role: invitation.role });
    }).catch((err: unknown) => {
      if (isUniqueViolation(err)) throw conflict('An account with this email already exists', 'email');
      throw err;
    });
    compensations.push({
      name: 'db.deleteUser+releaseInvitation',
      run: () =>
        withTenant(s.db, invitation.tenantId, async (tx) => {
          await deleteUser(tx, user.id);
          await releaseInvitation(tx, invitation.id);
        }),
    });
    log.info('step: user row created, invitation consumed', { userId: user.id });
    await s.afterStep('register.user_created');

    const tokens = await cognito.passwordAuth(email, input.password);
    log.info('done', { userId: user.id });
    return { user, tokens };
  } catch (err) {
    log.warn('failed, compensating', { steps: compensations.map((c) => c.name), err });
    for (const c of compensations.reverse()) {
      try {
        await c.run();
        log.info('compensated', { step: c.name });
      } catch (cerr) {
        // Left for an operator: the saga id ties these lines together.
        log.error('compensation failed', { step: c.name, err: cerr });
      }
    }
    throw err;
  }
}
