import { isUuid, type Membership } from '@lt/context';
import { notFound } from '@lt/errors';
import {
  clampFirst,
  decodeTimeIdCursor,
  DateTimeScalar,
  encodeCursor,
  requireMembership,
  requireRole,
  type SubgraphContext,
} from '@lt/server';
import type { TenantSubgraphDeps } from '../createTenantSubgraph';
import type { TenantReferenceLoader } from '../data/references';
import { scopeFor } from '../data/scope';
import type { TenantStore } from '../data/store';
import type { TenantCursor, TenantRow } from '../data/tenants';
import { announceStatus } from '../events/tenantEvents';
import {
  DEFAULT_MAX_RETENTION_DAYS,
  validateChanges,
  validateName,
  validateSlug,
  type TenantSettingsInput,
} from '../validation';

/** What the tenant subgraph adds to each request's context. */
export interface TenantExtraContext {
  tenantRefs: TenantReferenceLoader;
}
type Ctx = SubgraphContext & TenantExtraContext;

/**
 * The caller may address tenant `id`: a PLATFORM_ADMIN any, everyone else only its own. Anything
 * else is NOT_FOUND, exactly like an id that does not exist (existence does not leak).
 */
function addressable(m: Membership, id: string): string {
  if (!isUuid(id)) throw notFound('Tenant', 'id');
  if (m.role !== 'PLATFORM_ADMIN' && m.tenantId !== id) throw notFound('Tenant', 'id');
  return id;
}

const cursorOf = (t: TenantRow): string => encodeCursor([t.createdAt.toISOString(), t.id]);

function parseCursor(after: string | null | undefined): TenantCursor | null {
  if (after === null || after === undefined) return null;
  const { at, id } = decodeTimeIdCursor(after);
  return { createdAt: at, id };
}

export function createResolvers(deps: TenantSubgraphDeps & { store: TenantStore }) {
  const { store, identity } = deps;

  async function setStatus(id: string, to: 'ACTIVE' | 'SUSPENDED', ctx: Ctx): Promise<TenantRow> {
    requireRole(ctx, 'PLATFORM_ADMIN');
    if (!isUuid(id)) throw notFound('Tenant', 'id');
    const { tenant, changed } = await store.setStatus(id, to);
    // Announced even when unchanged: repeating the mutation is how an operator re-sends a lost announcement.
    await announceStatus(identity, id, to, ctx.log);
    ctx.log.info('tenant status set', { tenantId: id, status: to, changed });
    return tenant;
  }

  return {
    DateTime: DateTimeScalar,
    Query: {
      async tenant(_: unknown, args: { id: string }, ctx: Ctx): Promise<TenantRow> {
        const m = requireMembership(ctx);
        const id = addressable(m, args.id);
        const tenant = await store.get(scopeFor(m, id), id);
        if (!tenant) throw notFound('Tenant', 'id');
        return tenant;
      },
      async myTenant(_: unknown, _args: unknown, ctx: Ctx): Promise<TenantRow | null> {
        const m = requireMembership(ctx);
        if (m.tenantId === null) return null;
        return store.get(scopeFor(m, m.tenantId), m.tenantId);
      },
      async tenants(_: unknown, args: { first?: number | null; after?: string | null }, ctx: Ctx) {
        requireRole(ctx, 'PLATFORM_ADMIN');
        const first = clampFirst(args.first);
        const page = await store.page(first, parseCursor(args.after));
        const edges = page.rows.map((node) => ({ cursor: cursorOf(node), node }));
        return {
          edges,
          pageInfo: { hasNextPage: page.hasNextPage, endCursor: edges.at(-1)?.cursor ?? null },
          totalCount: page.totalCount,
        };
      },
    },
    Mutation: {
      async createTenant(_: unknown, args: { input: { name: string; slug: string } }, ctx: Ctx): Promise<TenantRow> {
        requireRole(ctx, 'PLATFORM_ADMIN');
        const input = { name: validateName(args.input.name), slug: validateSlug(args.input.slug) };
        const tenant = await store.create(input);
        ctx.log.info('tenant created', { tenantId: tenant.id });
        return tenant;
      },
      async updateTenant(
        _: unknown,
        args: {
          id: string;
          input: { name?: string | null; slug?: string | null; settings?: TenantSettingsInput | null };
        },
        ctx: Ctx,
      ): Promise<TenantRow> {
        const m = requireRole(ctx, 'TENANT_ADMIN', 'PLATFORM_ADMIN');
        const id = addressable(m, args.id);
        const changes = validateChanges(args.input, deps.maxRetentionDays ?? DEFAULT_MAX_RETENTION_DAYS);
        return store.update({ ...scopeFor(m, id), tenantId: id }, changes);
      },
      suspendTenant: (_: unknown, args: { id: string }, ctx: Ctx) => setStatus(args.id, 'SUSPENDED', ctx),
      reactivateTenant: (_: unknown, args: { id: string }, ctx: Ctx) => setStatus(args.id, 'ACTIVE', ctx),
    },
    Tenant: {
      __resolveReference(ref: { id: string }, ctx: Ctx): Promise<TenantRow | null> {
        return ctx.tenantRefs.load(ref.id);
      },
      settings: (t: TenantRow) => ({
        retentionDays: t.retentionDays,
        maxAccuracyMeters: t.maxAccuracyMeters,
        maxSpeedMetersPerSecond: t.maxSpeedMps,
        dropDuplicates: t.dropDuplicates,
      }),
    },
  };
}
