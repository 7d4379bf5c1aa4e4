/** GraphQL resolvers of the fleet capability: devices, session summaries, the subscription snapshot. */
import { badUserInput } from '@lt/errors';
import { clampFirst, decodeTimeIdCursor, encodeCursor, requireTenantMember, type SubgraphContext } from '@lt/server';
import type { LocationSubgraphDeps } from '../createLocationSubgraph';
import { scopeOf } from '../data/scope';
import type { SessionRow } from '../data/sessions';
import type { RecordResult } from '../data/points';
import { latestPointIds, listDevices, sessionSummary, type DeviceRow } from './read';
import { fleetRules } from './state';

/** Snapshot ids answered at most (the router re-reads them 500 at a time). */
export const SNAPSHOT_MAX = 1_000;

/** `recordLocations`' `filtered`: counts by reason, in a fixed order. */
export function filteredCounts(r: Pick<RecordResult, 'filtered'>): { reason: string; count: number }[] {
  const counts = new Map<string, number>();
  for (const f of r.filtered) counts.set(f.reason, (counts.get(f.reason) ?? 0) + 1);
  return ['ACCURACY', 'SPEED', 'DUPLICATE'].flatMap((reason) =>
    counts.has(reason) ? [{ reason, count: counts.get(reason)! }] : [],
  );
}

/** `recordLocation` of a filtered point: BAD_USER_INPUT naming the reason (a client must not retry it). */
export function filteredError(reason: string) {
  return badUserInput(`The point was dropped by the tenant's ingest filters (${reason})`, 'location', { reason });
}

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
