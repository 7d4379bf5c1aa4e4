import { isUuid, type Membership, type Role } from '@lt/context';
import { withPlatform, withSystem, withTenant, type Db, type Tx } from '@lt/db';

export interface UserRow {
  id: string;
  cognitoSub: string;
  email: string;
  tenantId: string | null;
  role: Role;
  createdAt: Date;
}

const SELECT = { id: true, cognitoSub: true, email: true, tenantId: true, role: true, createdAt: true } as const;

/** Runs `work` in the scope a membership may see: its tenant, or the platform rows. */
export function inScope<T>(db: Db, m: Pick<Membership, 'tenantId'>, work: (tx: Tx) => Promise<T>): Promise<T> {
  return m.tenantId ? withTenant(db, m.tenantId, work) : withPlatform(db, work);
}

/** A user by id; an id that is not a UUID cannot exist (and must not reach Postgres as a cast error). */
export const findUser = (tx: Tx, id: string): Promise<UserRow | null> =>
  isUuid(id) ? tx.user.findUnique({ where: { id }, select: SELECT }) : Promise.resolve(null);

/** Users by id, one query (ids that are not UUIDs are left out); RLS limits them to the transaction's scope. */
export const findUsers = (tx: Tx, ids: readonly string[]): Promise<UserRow[]> => {
  const valid = ids.filter((id) => isUuid(id));
  return valid.length ? tx.user.findMany({ where: { id: { in: valid } }, select: SELECT }) : Promise.resolve([]);
};

export const insertUser = (
  tx: Tx,
  data: { cognitoSub: string; email: string; tenantId: string | null; role: Role },
): Promise<UserRow> => tx.user.create({ data, select: SELECT });

export const updateRole = (tx: Tx, id: string, role: Role): Promise<UserRow> =>
  tx.user.update({ where: { id }, data: { role }, select: SELECT });

export const deleteUser = async (tx: Tx, id: string): Promise<void> => {
  await tx.user.delete({ where: { id } });
};

/** A page of `tenantId`'s users, oldest first (cursor = [createdAt ISO, id]). */
export async function pageUsers(
  tx: Tx,
  tenantId: string,
  first: number,
  after: [string, string] | null,
): Promise<{ rows: UserRow[]; hasNextPage: boolean; totalCount: number }> {
  const where = after
    ? {
        tenantId,
        OR: [{ createdAt: { gt: new Date(after[0]) } }, { createdAt: new Date(after[0]), id: { gt: after[1] } }],
      }
    : { tenantId };
  const [rows, totalCount] = await Promise.all([
    tx.user.findMany({ where, orderBy: [{ createdAt: 'asc' }, { id: 'asc' }], take: first + 1, select: SELECT }),
    tx.user.count({ where: { tenantId } }),
  ]);
  return { rows: rows.slice(0, first), hasNextPage: rows.length > first, totalCount };
}

/** The membership of a Cognito `sub`, across tenants (SECURITY DEFINER `app_resolve_membership`). */
export async function resolveMembership(db: Db, sub: string): Promise<(Membership & { email: string }) | null> {
  const rows = await withSystem(
    db,
    (tx) =>
      tx.$queryRaw<
        {
          user_id: string;
          tenant_id: string | null;
          role: Role;
          tenant_status: Membership['tenantStatus'];
          email: string;
        }[]
      >`SELECT user_id, tenant_id, role::text AS role, tenant_status::text AS tenant_status, email
        FROM app_resolve_membership(${sub})`,
  );
  const r = rows[0];
  if (!r) return null;
  return { userId: r.user_id, sub, tenantId: r.tenant_id, role: r.role, tenantStatus: r.tenant_status, email: r.email };
}

/** True when any user (any tenant) has this e-mail (SECURITY DEFINER `app_email_registered`). */
export async function emailRegistered(db: Db, email: string): Promise<boolean> {
  const rows = await withSystem(
    db,
    (tx) => tx.$queryRaw<{ registered: boolean }[]>`SELECT app_email_registered(${email}) AS registered`,
  );
  return rows[0]?.registered === true;
}
