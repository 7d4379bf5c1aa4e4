import type { DeliveryModel, StreamSinkModel } from '@lt/db';
import { badUserInput, notFound } from '@lt/errors';
import {
  clampFirst,
  DateTimeScalar,
  decodeTimeIdCursor,
  encodeCursor,
  requireRole,
  loadBatched,
  byId,
  type SubgraphContext,
  type TenantMembership,
} from '@lt/server';
import { withTenant } from '@lt/db';
import type { StreamingSubgraphDeps } from '../createStreamingSubgraph';
import { listDeliveries, sinkStats, type DeliveryStatus } from '../data/deliveries';
import type { BatchInput, SinkService } from '../sinkService';

/** Sinks are managed by the tenant's admins only; the tenant always comes from the signed context. */
function admin(ctx: SubgraphContext): TenantMembership {
  return requireRole(ctx, 'TENANT_ADMIN') as TenantMembership;
}

const STATUSES: readonly string[] = ['PENDING', 'DELIVERED', 'FAILED', 'DEAD'];

function parseAfter(after: string | null | undefined): { createdAt: Date; id: string } | undefined {
  if (after == null) return undefined;
  const { at, id } = decodeTimeIdCursor(after);
  return { createdAt: at, id };
}

export function createResolvers(deps: StreamingSubgraphDeps & { sinks: SinkService }) {
  const { sinks } = deps;
  return {
    DateTime: DateTimeScalar,
    Query: {
      streamSinks: (_: unknown, _a: unknown, ctx: SubgraphContext) => sinks.list(admin(ctx).tenantId),
      async streamSink(_: unknown, a: { id: string }, ctx: SubgraphContext) {
        const sink = await sinks.find(admin(ctx).tenantId, a.id);
        if (!sink) throw notFound('StreamSink', 'id');
        return sink;
      },
      async streamingStatus(_: unknown, _a: unknown, ctx: SubgraphContext) {
        const m = requireRole(ctx, 'TENANT_ADMIN', 'PLATFORM_ADMIN');
        const tenantId = m.role === 'PLATFORM_ADMIN' ? null : m.tenantId;
        const [backlog, probe] = await Promise.all([
          sinks.backlog(tenantId),
          deps.pipeline?.status() ?? Promise.resolve({ brokerReachable: false, consumerLag: [] }),
        ]);
        return {
          brokerReachable: probe.brokerReachable,
          outboxBacklog: backlog.unsent,
          oldestUnsentAt: backlog.oldestUnsentAt,
          consumerLag: probe.consumerLag,
        };
      },
    },
    Mutation: {
      createStreamSink: (
        _: unknown,
        a: { input: { name: string; url: string; topics: string[]; batch?: BatchInput | null } },
        ctx: SubgraphContext,
      ) => sinks.create(admin(ctx).tenantId, a.input),
      updateStreamSink: (_: unknown, a: { id: string; input: Record<string, never> }, ctx: SubgraphContext) =>
        sinks.update(admin(ctx).tenantId, a.id, a.input),
      deleteStreamSink: (_: unknown, a: { id: string }, ctx: SubgraphContext) =>
        sinks.remove(admin(ctx).tenantId, a.id),
      rotateStreamSinkSecret: (_: unknown, a: { id: string }, ctx: SubgraphContext) =>
        sinks.rotate(admin(ctx).tenantId, a.id),
      sendTestEvent: (_: unknown, a: { sinkId: string }, ctx: SubgraphContext) =>
        sinks.sendTestEvent(admin(ctx).tenantId, a.sinkId),
      replayDeadLetters: (_: unknown, a: { sinkId: string }, ctx: SubgraphContext) =>
        sinks.replayDeadLetters(admin(ctx).tenantId, a.sinkId),
    },
    StreamSink: {
      /** All of a request's StreamSink references are one query (loadBatched). */
      __resolveReference: (ref: { id: string }, ctx: SubgraphContext) => {
        const tenantId = admin(ctx).tenantId;
        return loadBatched(ctx, 'StreamSink', ref.id, (ids) => sinks.findMany(tenantId, ids).then(byId));
      },
      batch: (sink: StreamSinkModel) =>
        sink.batchMaxEvents == null ? null : { maxEvents: sink.batchMaxEvents, maxWaitMs: sink.batchMaxWaitMs ?? 0 },
      stats: (sink: StreamSinkModel, _a: unknown, ctx: SubgraphContext) =>
        withTenant(deps.db, admin(ctx).tenantId, (tx) => sinkStats(tx, sink.id)),
      async deliveries(
        sink: StreamSinkModel,
        a: { status?: string | null; first?: number | null; after?: string | null },
        ctx: SubgraphContext,
      ) {
        const tenantId = admin(ctx).tenantId;
        const first = clampFirst(a.first);
        if (a.status != null && !STATUSES.includes(a.status)) throw badUserInput('unknown status', 'status');
        const after = parseAfter(a.after);
        const rows = await withTenant(deps.db, tenantId, (tx) =>
          listDeliveries(tx, sink.id, {
            status: a.status as DeliveryStatus | null,
            take: first + 1,
            ...(after ? { after } : {}),
          }),
        );
        const page = rows.slice(0, first);
        const edges = page.map((node) => ({ cursor: encodeCursor([node.createdAt.toISOString(), node.id]), node }));
        return { edges, pageInfo: { hasNextPage: rows.length > first, endCursor: edges.at(-1)?.cursor ?? null } };
      },
    },
    Delivery: {
      // The response body and payload stay internal; the API shows status and metadata only.
      nextAttemptAt: (d: DeliveryModel) => (d.status === 'PENDING' ? d.nextAttemptAt : null),
    },
  };
}
