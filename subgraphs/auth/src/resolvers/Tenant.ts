import { notFound } from '@lt/errors';
import {
  clampFirst,
  decodeTimeIdCursor,
  encodeCursor,
  requireRole,
  requireTenantMember,
  type SubgraphContext,
} from '@lt/server';
import type { AuthServices } from '../deps';
import { listTenantUsers } from '../useCases/readUsers';

export function createTenantResolvers(s: AuthServices) {
  return {
    async users(t: { id: string }, args: { first?: number | null; after?: string | null }, ctx: SubgraphContext) {
      const m = requireRole(ctx, 'TENANT_ADMIN', 'PLATFORM_ADMIN');
      if (m.role !== 'PLATFORM_ADMIN' && m.tenantId !== t.id) throw notFound('Tenant');
      const first = clampFirst(args.first);
      const c = args.after ? decodeTimeIdCursor(args.after) : null;
      const after: [string, string] | null = c ? [c.at.toISOString(), c.id] : null;
      // The caller's tenant, not the requested one: RLS backs the check above. A platform admin
      // has no tenant and reads the one it names.
      const scope = m.role === 'PLATFORM_ADMIN' ? t.id : requireTenantMember(ctx).tenantId;
      const page = await listTenantUsers(s, scope, t.id, first, after);
      const edges = page.rows.map((u) => ({ cursor: encodeCursor([u.createdAt.toISOString(), u.id]), node: u }));
      return {
        edges,
        totalCount: page.totalCount,
        pageInfo: { hasNextPage: page.hasNextPage, endCursor: edges.at(-1)?.cursor ?? null },
      };
    },
  };
}
