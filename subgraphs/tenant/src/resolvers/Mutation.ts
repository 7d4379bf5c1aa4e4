import { isUuid } from '@lt/context';
import { notFound } from '@lt/errors';
import { requireRole } from '@lt/server';
import { scopeFor } from '../data/scope';
import type { TenantRow } from '../data/tenants';
import type { TenantContext, TenantSubgraphDeps } from '../deps';
import { createTenant } from '../useCases/createTenant';
import { setTenantStatus } from '../useCases/setTenantStatus';
import { updateTenant } from '../useCases/updateTenant';
import {
  DEFAULT_MAX_RETENTION_DAYS,
  validateChanges,
  validateName,
  validateSlug,
  type TenantSettingsInput,
} from '../validation';
import { addressable } from './addressable';

export function createMutationResolvers(deps: Pick<TenantSubgraphDeps, 'db' | 'identity' | 'maxRetentionDays'>) {
  const { db, identity } = deps;

  function setStatus(id: string, to: 'ACTIVE' | 'SUSPENDED', ctx: TenantContext): Promise<TenantRow> {
    requireRole(ctx, 'PLATFORM_ADMIN');
    if (!isUuid(id)) throw notFound('Tenant', 'id');
    return setTenantStatus({ db, identity, log: ctx.log }, id, to);
  }

  return {
    async createTenant(
      _: unknown,
      args: { input: { name: string; slug: string } },
      ctx: TenantContext,
    ): Promise<TenantRow> {
      requireRole(ctx, 'PLATFORM_ADMIN');
      const input = { name: validateName(args.input.name), slug: validateSlug(args.input.slug) };
      const tenant = await createTenant(db, input);
      ctx.log.info('tenant created', { tenantId: tenant.id });
      return tenant;
    },
    async updateTenant(
      _: unknown,
      args: {
        id: string;
        input: { name?: string | null; slug?: string | null; settings?: TenantSettingsInput | null };
      },
      ctx: TenantContext,
    ): Promise<TenantRow> {
      const m = requireRole(ctx, 'TENANT_ADMIN', 'PLATFORM_ADMIN');
      const id = addressable(m, args.id);
      const changes = validateChanges(args.input, deps.maxRetentionDays ?? DEFAULT_MAX_RETENTION_DAYS);
      return updateTenant(db, { ...scopeFor(m, id), tenantId: id }, changes);
    },
    suspendTenant: (_: unknown, args: { id: string }, ctx: TenantContext) => setStatus(args.id, 'SUSPENDED', ctx),
    reactivateTenant: (_: unknown, args: { id: string }, ctx: TenantContext) => setStatus(args.id, 'ACTIVE', ctx),
  };
}
