import type { Membership, Role } from '@lt/context';
import { withPlatform, withTenant } from '@lt/db';
import { badUserInput, conflict, forbidden, notFound } from '@lt/errors';
import type { Logger } from '@lt/logger';
import { isUuid } from '@lt/server';
import { insertInvitation, newInvitationCode } from '../data/invitations';
import { emailRegistered } from '../data/users';
import type { AuthServices } from '../deps';

const EMAIL = /^[^\s@]{1,64}@[^\s@]{1,255}\.[^\s@]+$/;

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

/**
 * An invitation to a tenant (the admin's own; a platform admin names an existing one) for an
 * e-mail without an account. Returns the one-time code (only its hash is stored).
 */
export async function inviteUser(
  s: AuthServices,
  m: Membership,
  input: { email: string; role: Role; tenantId?: string | null },
  log: Logger,
) {
  const tenantId = invitationTenant(m, input.tenantId ?? null);
  const email = input.email.trim().toLowerCase();
  if (!EMAIL.test(email)) throw badUserInput('Invalid email address', 'input.email');
  if (input.role === 'PLATFORM_ADMIN') throw badUserInput('Cannot invite a platform admin', 'input.role');
  if (await emailRegistered(s.db, email)) throw conflict('This email already has an account', 'input.email');
  const { code, codeHash } = newInvitationCode();
  const expiresAt = new Date(s.now() + s.invitationTtlSeconds * 1000);
  const row = { tenantId, email, role: input.role, codeHash, expiresAt, createdById: m.userId };
  const invitation =
    m.role === 'PLATFORM_ADMIN'
      ? await withPlatform(
          s.db,
          async (tx) => {
            if (!(await tx.tenant.findUnique({ where: { id: tenantId }, select: { id: true } })))
              throw notFound('Tenant', 'input.tenantId');
            return insertInvitation(tx, row);
          },
          { tenantId },
        )
      : await withTenant(s.db, tenantId, (tx) => insertInvitation(tx, row));
  log.info('invitation created', { invitationId: invitation.id, tenantId });
  return { code, email, role: invitation.role, expiresAt, tenantId };
}
