import { requireRole, type SubgraphContext, type TenantMembership } from '@lt/server';

/** Sinks are managed by the tenant's admins only; the tenant always comes from the signed context. */
export function admin(ctx: SubgraphContext): TenantMembership {
  return requireRole(ctx, 'TENANT_ADMIN') as TenantMembership;
}
