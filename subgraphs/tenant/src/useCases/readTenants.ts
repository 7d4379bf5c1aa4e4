import type { Db } from '@lt/db';
import { runIn, type Scope } from '../data/scope';
import { findTenant, findTenants, pageTenants, type TenantCursor, type TenantRow } from '../data/tenants';

/** The tenant if it is visible in `scope`, else null. */
export function getTenant(db: Db, scope: Scope, id: string): Promise<TenantRow | null> {
  return runIn(db, scope, (tx) => findTenant(tx, id));
}

/** The tenants among `ids` visible in `scope`. */
export function getTenants(db: Db, scope: Scope, ids: string[]): Promise<TenantRow[]> {
  return runIn(db, scope, (tx) => findTenants(tx, ids));
}

/** A page of every tenant (platform scope), newest first. */
export function listTenants(db: Db, first: number, after: TenantCursor | null) {
  return runIn(db, { kind: 'platform' }, (tx) => pageTenants(tx, first, after));
}
