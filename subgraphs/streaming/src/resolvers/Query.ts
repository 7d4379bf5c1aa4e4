import { notFound } from '@lt/errors';
import { requireRole, type SubgraphContext } from '@lt/server';
import type { StreamingSubgraphDeps } from '../deps';
import { getSink, listTenantSinks, outboxBacklog } from '../useCases/readSinks';
import { admin } from './admin';

export function createQueryResolvers(deps: Pick<StreamingSubgraphDeps, 'db' | 'pipeline'>) {
  const { db } = deps;
  return {
    streamSinks: (_: unknown, _a: unknown, ctx: SubgraphContext) => listTenantSinks(db, admin(ctx).tenantId),
    async streamSink(_: unknown, a: { id: string }, ctx: SubgraphContext) {
      const sink = await getSink(db, admin(ctx).tenantId, a.id);
      if (!sink) throw notFound('StreamSink', 'id');
      return sink;
    },
    async streamingStatus(_: unknown, _a: unknown, ctx: SubgraphContext) {
      const m = requireRole(ctx, 'TENANT_ADMIN', 'PLATFORM_ADMIN');
      const tenantId = m.role === 'PLATFORM_ADMIN' ? null : m.tenantId;
      const [backlog, probe] = await Promise.all([
        outboxBacklog(db, tenantId),
        deps.pipeline?.status() ?? Promise.resolve({ brokerReachable: false, consumerLag: [] }),
      ]);
      return {
        brokerReachable: probe.brokerReachable,
        outboxBacklog: backlog.unsent,
        oldestUnsentAt: backlog.oldestUnsentAt,
        consumerLag: probe.consumerLag,
      };
    },
  };
}
