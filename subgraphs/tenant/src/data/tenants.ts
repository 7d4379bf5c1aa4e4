import type { TenantStatus } from '@lt/context';
import { isUniqueViolation, type Tx } from '@lt/db';
import { conflict } from '@lt/errors';
import type { TenantChanges } from '../validation';

/** The columns the API exposes (and the events carry). */
export const tenantColumns = {
  id: true,
  name: true,
  slug: true,
  status: true,
  createdAt: true,
  updatedAt: true,
  retentionDays: true,
  maxAccuracyMeters: true,
  maxSpeedMps: true,
  dropDuplicates: true,
} as const;

export interface TenantRow {
  id: string;
  name: string;
  slug: string;
  status: TenantStatus;
  createdAt: Date;
  updatedAt: Date;
  retentionDays: number | null;
  maxAccuracyMeters: number | null;
  maxSpeedMps: number | null;
  dropDuplicates: boolean;
}

/** Sort key of the `tenants` connection: newest first, id breaks ties. */
export interface TenantCursor {
  createdAt: Date;
  id: string;
}

export function findTenant(tx: Tx, id: string): Promise<TenantRow | null> {
  return tx.tenant.findUnique({ where: { id }, select: tenantColumns });
}

export function findTenants(tx: Tx, ids: string[]): Promise<TenantRow[]> {
  return tx.tenant.findMany({ where: { id: { in: ids } }, select: tenantColumns });
}

/** One page, newest first, after `after`; fetches one extra row to tell whether more exist. */
export async function pageTenants(
  tx: Tx,
  first: number,
  after: TenantCursor | null,
): Promise<{ rows: TenantRow[]; hasNextPage: boolean; totalCount: number }> {
  const where = after
    ? {
        OR: [{ createdAt: { lt: after.createdAt } }, { createdAt: after.createdAt, id: { lt: after.id } }],
      }
    : {};
  // Sequential: one transaction is one connection; Prisma would queue them anyway.
  const rows = await tx.tenant.findMany({
    where,
    select: tenantColumns,
    orderBy: [{ createdAt: 'desc' }, { id: 'desc' }],
    take: first + 1,
  });
  const totalCount = await tx.tenant.count();
  return { rows: rows.slice(0, first), hasNextPage: rows.length > first, totalCount };
}

export function insertTenant(tx: Tx, data: { id: string; name: string; slug: string }): Promise<TenantRow> {
  return tx.tenant.create({ data, select: tenantColumns });
}

export function updateTenantFields(tx: Tx, id: string, data: TenantChanges): Promise<TenantRow> {
  return tx.tenant.update({ where: { id }, data, select: tenantColumns });
}

/**
 * Moves a tenant from `from` to `to` in one conditional statement, so two concurrent suspensions
 * produce one change (and one event). Returns false when the tenant was not in `from`.
 */
export async function transitionStatus(tx: Tx, id: string, from: TenantStatus, to: TenantStatus): Promise<boolean> {
  const { count } = await tx.tenant.updateMany({ where: { id, status: from }, data: { status: to } });
  return count === 1;
}

/** Translates the unique index on `tenants.slug` into the API's CONFLICT; rethrows the rest. */
export function slugConflict(err: unknown): never {
  if (isUniqueViolation(err)) throw conflict('This slug is already taken', 'slug');
  throw err;
}
