import { createHash, randomBytes } from 'node:crypto';
import type { Role, TenantStatus } from '@lt/context';
import { withSystem, type Db, type Tx } from '@lt/db';

/** A new invitation code (shown once) and the hash that is stored. */
export function newInvitationCode(): { code: string; codeHash: string } {
  const code = randomBytes(24).toString('base64url');
  return { code, codeHash: hashInvitationCode(code) };
}

export const hashInvitationCode = (code: string): string => createHash('sha256').update(code).digest('hex');

export interface InvitationRow {
  id: string;
  tenantId: string;
  email: string;
  role: Role;
  expiresAt: Date;
}

export const insertInvitation = (
  tx: Tx,
  data: { tenantId: string; email: string; role: Role; codeHash: string; expiresAt: Date; createdById: string },
): Promise<InvitationRow> =>
  tx.invitation.create({
    data,
    select: { id: true, tenantId: true, email: true, role: true, expiresAt: true },
  });

/** Looks an invitation up by code before the tenant is known (SECURITY DEFINER `app_find_invitation`). */
export async function findInvitationByCode(
  db: Db,
  code: string,
): Promise<(InvitationRow & { usedAt: Date | null; tenantStatus: TenantStatus }) | null> {
  const rows = await withSystem(
    db,
    (tx) =>
      tx.$queryRaw<
        {
          id: string;
          tenant_id: string;
          email: string;
          role: Role;
          expires_at: Date;
          used_at: Date | null;
          tenant_status: TenantStatus;
        }[]
      >`SELECT id, tenant_id, email, role::text AS role, expires_at, used_at, tenant_status::text AS tenant_status
        FROM app_find_invitation(${hashInvitationCode(code)})`,
  );
  const r = rows[0];
  if (!r) return null;
  return {
    id: r.id,
    tenantId: r.tenant_id,
    email: r.email,
    role: r.role,
    expiresAt: r.expires_at,
    usedAt: r.used_at,
    tenantStatus: r.tenant_status,
  };
}

/** Marks an invitation used; false when someone else used it first (single use under races). */
export async function consumeInvitation(tx: Tx, id: string, now: Date): Promise<boolean> {
  const { count } = await tx.invitation.updateMany({
    where: { id, usedAt: null, expiresAt: { gt: now } },
    data: { usedAt: now },
  });
  return count === 1;
}

export async function releaseInvitation(tx: Tx, id: string): Promise<void> {
  await tx.invitation.updateMany({ where: { id }, data: { usedAt: null } });
}
