import { withPlatform, withTenant, type Db, type Tx } from '@lt/db';
import type { Membership } from '@lt/context';

/**
 * Where a unit of work runs. `tenant`: RLS shows only that tenant's row (a TENANT_ADMIN or MEMBER
 * acting on its own tenant). `platform`: the explicit platform-admin path (`app.platform = on`),
 * which only the tenants table honours; `tenantId` additionally sets the tenant, so outbox rows of
 * that tenant can be written in the same transaction.
 */
export type Scope = { kind: 'tenant'; tenantId: string } | { kind: 'platform'; tenantId?: string };

/** The scope a caller acts in on `tenantId` (the resolvers have already checked it may). */
export function scopeFor(m: Membership, tenantId?: string): Scope {
  if (m.role === 'PLATFORM_ADMIN') return tenantId ? { kind: 'platform', tenantId } : { kind: 'platform' };
  if (m.tenantId === null) throw new TypeError('scopeFor: a tenant user without a tenant');
  if (tenantId !== undefined && tenantId !== m.tenantId) {
    throw new TypeError('scopeFor: a tenant user acting on another tenant');
  }
  return { kind: 'tenant', tenantId: m.tenantId };
}

/** Runs one transaction in `scope` (always through withTenant/withPlatform: RLS applies). */
export function runIn<T>(db: Db, scope: Scope, work: (tx: Tx) => Promise<T>): Promise<T> {
  switch (scope.kind) {
    case 'tenant':
      return withTenant(db, scope.tenantId, work);
    case 'platform':
      return withPlatform(db, work, scope.tenantId ? { tenantId: scope.tenantId } : {});
  }
}
