import type { Membership, Role } from '@lt/context';
import { forbidden, unauthenticated } from '@lt/errors';
import type { SubgraphContext } from './context';

/** A membership that belongs to a tenant (TENANT_ADMIN or MEMBER, or a PLATFORM_ADMIN acting in one). */
export type TenantMembership = Membership & { tenantId: string };

/** The caller's membership, or UNAUTHENTICATED. Subgraphs check again what the router enforced. */
export function requireMembership(ctx: SubgraphContext): Membership {
  const m = ctx.caller.membership;
  if (!m) throw unauthenticated();
  if (m.tenantStatus === 'SUSPENDED') throw unauthenticated('Tenant is suspended');
  return m;
}

/** A caller with a tenant (any role but PLATFORM_ADMIN), else FORBIDDEN. */
export function requireTenantMember(ctx: SubgraphContext): TenantMembership {
  const m = requireMembership(ctx);
  if (m.tenantId === null) throw forbidden('This operation needs a tenant user');
  return m as TenantMembership;
}

/** The caller's membership if its role is one of `roles`, else FORBIDDEN. */
export function requireRole(ctx: SubgraphContext, ...roles: Role[]): Membership {
  const m = requireMembership(ctx);
  if (!roles.includes(m.role)) throw forbidden(`Requires role ${roles.join(' or ')}`);
  return m;
}
