import type { TenantMembership } from '@lt/server';

/** Who is asking, as the data layer needs it: the tenant (RLS) and whether only own sessions show. */
export interface Scope {
  tenantId: string;
  userId: string;
  /** MEMBERs see their own sessions only; TENANT_ADMINs see the whole tenant's. */
  ownOnly: boolean;
}

export function scopeOf(m: TenantMembership): Scope {
  return { tenantId: m.tenantId, userId: m.userId, ownOnly: m.role !== 'TENANT_ADMIN' };
}
