import type { TenantRow } from '../data/tenants';
import type { TenantContext } from '../deps';

export const tenantResolvers = {
  __resolveReference(ref: { id: string }, ctx: TenantContext): Promise<TenantRow | null> {
    return ctx.tenantRefs.load(ref.id);
  },
  settings: (t: TenantRow) => ({
    retentionDays: t.retentionDays,
    maxAccuracyMeters: t.maxAccuracyMeters,
    maxSpeedMetersPerSecond: t.maxSpeedMps,
    dropDuplicates: t.dropDuplicates,
  }),
};
