import type { Db, StreamSinkModel } from '@lt/db';
import { badUserInput } from '@lt/errors';
import { byId, clampFirst, decodeTimeIdCursor, encodeCursor, loadBatched, type SubgraphContext } from '@lt/server';
import type { DeliveryStatus } from '../data/deliveries';
import { getSinkStats, listSinkDeliveries } from '../useCases/readDeliveries';
import { getSinks } from '../useCases/readSinks';
import { admin } from './admin';

const STATUSES: readonly string[] = ['PENDING', 'DELIVERED', 'FAILED', 'DEAD'];

function parseAfter(after: string | null | undefined): { createdAt: Date; id: string } | undefined {
  if (after == null) return undefined;
  const { at, id } = decodeTimeIdCursor(after);
  return { createdAt: at, id };
}

export function createStreamSinkResolvers(db: Db) {
  return {
    /** All of a request's StreamSink references are one query (loadBatched). */
    __resolveReference: (ref: { id: string }, ctx: SubgraphContext) => {
      const tenantId = admin(ctx).tenantId;
      return loadBatched(ctx, 'StreamSink', ref.id, (ids) => getSinks(db, tenantId, ids).then(byId));
    },
    batch: (sink: StreamSinkModel) =>
      sink.batchMaxEvents == null ? null : { maxEvents: sink.batchMaxEvents, maxWaitMs: sink.batchMaxWaitMs ?? 0 },
    stats: (sink: StreamSinkModel, _a: unknown, ctx: SubgraphContext) => getSinkStats(db, admin(ctx).tenantId, sink.id),
    async deliveries(
      sink: StreamSinkModel,
      a: { status?: string | null; first?: number | null; after?: string | null },
      ctx: SubgraphContext,
    ) {
      const tenantId = admin(ctx).tenantId;
      const first = clampFirst(a.first);
      if (a.status != null && !STATUSES.includes(a.status)) throw badUserInput('unknown status', 'status');
      const after = parseAfter(a.after);
      const rows = await listSinkDeliveries(db, tenantId, sink.id, {
        status: a.status as DeliveryStatus | null,
        take: first + 1,
        ...(after ? { after } : {}),
      });
      const page = rows.slice(0, first);
      const edges = page.map((node) => ({ cursor: encodeCursor([node.createdAt.toISOString(), node.id]), node }));
      return { edges, pageInfo: { hasNextPage: rows.length > first, endCursor: edges.at(-1)?.cursor ?? null } };
    },
  };
}
