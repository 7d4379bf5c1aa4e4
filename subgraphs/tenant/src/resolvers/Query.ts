import { notFound } from '@lt/errors';
import { clampFirst, decodeTimeIdCursor, encodeCursor, requireMembership, requireRole } from '@lt/server';
import { scopeFor } from '../data/scope';
import type { TenantCursor, TenantRow } from '../data/tenants';
import type { TenantContext, TenantSubgraphDeps } from '../deps';
import { getTenant, listTenants } from '../useCases/readTenants';
import { addressable } from './addressable';

const cursorOf = (t: TenantRow): string => encodeCursor([t.createdAt.toISOString(), t.id]);

function parseCursor(after: string | null | undefined): TenantCursor | null {
  if (after === null || after === undefined) return null;
  const { at, id } = decodeTimeIdCursor(after);
  return { createdAt: at, id };
}

export function createQueryResolvers({ db }: Pick<TenantSubgraphDeps, 'db'>) {
  return {
    async tenant(_: unknown, args: { id: string }, ctx: TenantContext): Promise<TenantRow> {
      const m = requireMembership(ctx);
      const id = addressable(m, args.id);
      const tenant = await getTenant(db, scopeFor(m, id), id);
      if (!tenant) throw notFound('Tenant', 'id');
      return tenant;
    },
    async myTenant(_: unknown, _args: unknown, ctx: TenantContext): Promise<TenantRow | null> {
      const m = requireMembership(ctx);
      if (m.tenantId === null) return null;
      return getTenant(db, scopeFor(m, m.tenantId), m.tenantId);
    },
    async tenants(_: unknown, args: { first?: number | null; after?: string | null }, ctx: TenantContext) {
      requireRole(ctx, 'PLATFORM_ADMIN');
      const first = clampFirst(args.first);
      const page = await listTenants(db, first, parseCursor(args.after));
      const edges = page.rows.map((node) => ({ cursor: cursorOf(node), node }));
      return {
        edges,
        pageInfo: { hasNextPage: page.hasNextPage, endCursor: edges.at(-1)?.cursor ?? null },
        totalCount: page.totalCount,
      };
    },
  };
}
