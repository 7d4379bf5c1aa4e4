import { isUuid, type Membership } from '@lt/context';
import type { Db } from '@lt/db';
import { scopeFor } from '../data/scope';
import type { TenantRow } from '../data/tenants';
import { getTenants } from './readTenants';

/** Resolves `Tenant` entity references for one request. */
export interface TenantReferenceLoader {
  /** The tenant if the caller may see it (its own; any for a PLATFORM_ADMIN), else null. */
  load(id: string): Promise<TenantRow | null>;
}

/**
 * Per-request loader for `Tenant` references from other subgraphs (`LocationSession.tenant`,
 * `User.tenant`, ...). The gateway sends many representations in one `_entities` call and Apollo
 * resolves them in one synchronous pass, so ids asked for in the same tick become one query;
 * repeated ids are answered once. Ids the caller may not see are null without touching the database.
 */
export function createTenantReferenceLoader(db: Db, membership: Membership | null): TenantReferenceLoader {
  const cache = new Map<string, Promise<TenantRow | null>>();
  let batch: { id: string; resolve: (row: TenantRow | null) => void; reject: (err: unknown) => void }[] = [];

  const flush = (): void => {
    const current = batch;
    batch = [];
    if (!membership) return;
    const ids = [...new Set(current.map((b) => b.id))];
    getTenants(db, scopeFor(membership), ids).then(
      (rows) => {
        const byId = new Map(rows.map((r) => [r.id, r]));
        for (const b of current) b.resolve(byId.get(b.id) ?? null);
      },
      (err: unknown) => {
        for (const b of current) b.reject(err);
      },
    );
  };

  const visible = (id: string): boolean =>
    membership !== null &&
    membership.tenantStatus !== 'SUSPENDED' &&
    isUuid(id) &&
    (membership.role === 'PLATFORM_ADMIN' || membership.tenantId === id);

  return {
    load(id) {
      if (!visible(id)) return Promise.resolve(null);
      let p = cache.get(id);
      if (!p) {
        p = new Promise<TenantRow | null>((resolve, reject) => {
          if (batch.length === 0) queueMicrotask(flush);
          batch.push({ id, resolve, reject });
        });
        cache.set(id, p);
      }
      return p;
    },
  };
}
