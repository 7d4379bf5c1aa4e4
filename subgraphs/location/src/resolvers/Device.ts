/** GraphQL resolvers of the fleet capability: devices, session summaries, the subscription snapshot. */
import { clampFirst, decodeTimeIdCursor, encodeCursor, requireTenantMember, type SubgraphContext } from '@lt/server';
import type { LocationSubgraphDeps } from '../deps';
import { scopeOf } from '../data/scope';
import type { SessionRow } from '../data/sessions';
import { latestPointIds, listDevices, sessionSummary, type DeviceRow } from '../fleet/read';
import { fleetRules } from '../fleet/state';

/** Snapshot ids answered at most (the router re-reads them 500 at a time). */
export const SNAPSHOT_MAX = 1_000;

export function createFleetResolvers(deps: LocationSubgraphDeps) {
  const rules = fleetRules(deps.fleet);
  const now = deps.now ?? (() => new Date());
  return {
    Query: {
      async devices(
        _: unknown,
        args: { online?: boolean | null; first?: number | null; after?: string | null },
        ctx: SubgraphContext,
      ) {
        const scope = scopeOf(requireTenantMember(ctx));
        const first = clampFirst(args.first);
        const after = args.after ? decodeTimeIdCursor(args.after) : null;
        const t = now();
        const onlineSince = new Date(t.getTime() - rules.offlineAfterSeconds * 1000);
        const rows = await listDevices(deps.db, scope, { online: args.online ?? null, onlineSince, first, after });
        const edges = rows.slice(0, first).map((d) => ({
          cursor: encodeCursor([d.lastSeenAt.toISOString(), d.id]),
          node: { ...d, online: d.lastSeenAt.getTime() >= onlineSince.getTime() },
        }));
        return { edges, pageInfo: { hasNextPage: rows.length > first, endCursor: edges.at(-1)?.cursor ?? null } };
      },
      async liveLatestLocationPointIds(_: unknown, args: { sessionId?: string | null }, ctx: SubgraphContext) {
        const scope = scopeOf(requireTenantMember(ctx));
        return latestPointIds(deps.db, scope, args.sessionId ?? null, SNAPSHOT_MAX);
      },
    },
    Device: {
      user: (d: DeviceRow) => ({ __typename: 'User', id: d.userId }),
    },
    SessionSummaryHost: {
      summary: (s: SessionRow) => sessionSummary(deps.db, s, rules),
    },
  };
}
