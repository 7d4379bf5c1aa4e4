import { randomUUID } from 'node:crypto';
import type { TenantStatus } from '@lt/context';
import { isUniqueViolation, type Db } from '@lt/db';
import { conflict, notFound, unauthenticated } from '@lt/errors';
import { appendOutbox } from '@lt/events';
import { tenantEvent, type TenantEventType } from '../events/tenantEvents';
import type { TenantChanges } from '../validation';
import { runIn, type Scope } from './scope';
import {
  findTenant,
  findTenants,
  insertTenant,
  pageTenants,
  transitionStatus,
  updateTenantFields,
  type TenantCursor,
  type TenantRow,
} from './tenants';

/** Translates the unique index on `tenants.slug` into the API's CONFLICT; rethrows the rest. */
function slugConflict(err: unknown): never {
  if (isUniqueViolation(err)) throw conflict('This slug is already taken', 'slug');
  throw err;
}

const STATUS_EVENT: Record<TenantStatus, TenantEventType> = {
  SUSPENDED: 'tenant.suspended.v1',
  ACTIVE: 'tenant.reactivated.v1',
};

/**
 * Units of work on tenants: each is one transaction in the caller's scope, and every change
 * writes its `tenant-events` outbox row in that same transaction (so a failed change writes none).
 */
export function createTenantStore(db: Db) {
  return {
    get(scope: Scope, id: string): Promise<TenantRow | null> {
      return runIn(db, scope, (tx) => findTenant(tx, id));
    },

    getMany(scope: Scope, ids: string[]): Promise<TenantRow[]> {
      return runIn(db, scope, (tx) => findTenants(tx, ids));
    },

    page(first: number, after: TenantCursor | null) {
      return runIn(db, { kind: 'platform' }, (tx) => pageTenants(tx, first, after));
    },

    async create(input: { name: string; slug: string }): Promise<TenantRow> {
      // The id is chosen here so the transaction can also set it as the tenant (outbox rows are RLS'd).
      const id = randomUUID();
      return runIn(db, { kind: 'platform', tenantId: id }, async (tx) => {
        const tenant = await insertTenant(tx, { id, ...input });
        await appendOutbox(tx, [tenantEvent('tenant.created.v1', tenant)]);
        return tenant;
      }).catch(slugConflict);
    },

    /** NOT_FOUND when the tenant is not visible in `scope`; no event when nothing actually changed. */
    async update(scope: Scope & { tenantId: string }, changes: TenantChanges): Promise<TenantRow> {
      return runIn(db, scope, async (tx) => {
        const before = await findTenant(tx, scope.tenantId);
        if (!before) throw notFound('Tenant', 'id');
        // The caller's signed membership may be up to a few seconds old: the row decides.
        if (scope.kind === 'tenant' && before.status === 'SUSPENDED') throw unauthenticated('Tenant is suspended');
        const changed = (Object.keys(changes) as (keyof typeof changes)[]).filter((k) => changes[k] !== before[k]);
        if (changed.length === 0) return before;
        const tenant = await updateTenantFields(tx, before.id, changes);
        await appendOutbox(tx, [tenantEvent('tenant.updated.v1', tenant, changed)]);
        return tenant;
      }).catch(slugConflict);
    },

    /**
     * Sets the status (platform scope). Idempotent: a tenant already in `to` is returned unchanged,
     * without an event. `changed` tells whether this call made the transition.
     */
    async setStatus(id: string, to: TenantStatus): Promise<{ tenant: TenantRow; changed: boolean }> {
      const from: TenantStatus = to === 'ACTIVE' ? 'SUSPENDED' : 'ACTIVE';
      return runIn(db, { kind: 'platform', tenantId: id }, async (tx) => {
        const changed = await transitionStatus(tx, id, from, to);
        const tenant = await findTenant(tx, id);
        if (!tenant) throw notFound('Tenant', 'id');
        if (changed) await appendOutbox(tx, [tenantEvent(STATUS_EVENT[to], tenant)]);
        return { tenant, changed };
      });
    },
  };
}

export type TenantStore = ReturnType<typeof createTenantStore>;
