import { withTenant } from '@lt/db';
import { badUserInput, notFound } from '@lt/errors';
import { clampFirst, decodeTimeIdCursor, requireTenantMember, type SubgraphContext } from '@lt/server';
import { sortKey } from './connection';
import type { LocationSubgraphDeps } from '../deps';
import { findPoints } from '../data/points';
import { scopeOf } from '../data/scope';
import { findSessions, getSession, listSessions } from '../data/sessions';
import { toConnection } from './connection';

export function createQueryResolvers({ db }: LocationSubgraphDeps) {
  return {
    async locationSession(_: unknown, args: { id: string }, ctx: SubgraphContext) {
      const scope = scopeOf(requireTenantMember(ctx));
      const session = await getSession(db, scope, args.id);
      if (!session) throw notFound('Location session', 'id');
      return session;
    },

    async locationSessions(
      _: unknown,
      args: {
        status?: 'ACTIVE' | 'ENDED' | null;
        userId?: string | null;
        first?: number | null;
        after?: string | null;
      },
      ctx: SubgraphContext,
    ) {
      const scope = scopeOf(requireTenantMember(ctx));
      const first = clampFirst(args.first);
      const after = args.after ? sortKey(decodeTimeIdCursor(args.after)) : null;
      const rows = await listSessions(db, scope, {
        status: args.status ?? null,
        userId: args.userId ?? null,
        first,
        after,
      });
      return toConnection(rows, first, (s) => [s.startedAt.toISOString(), s.id]);
    },

    async liveLocationUpdates(_: unknown, args: { pointIds: string[] }, ctx: SubgraphContext) {
      const scope = scopeOf(requireTenantMember(ctx));
      if (args.pointIds.length > 500) throw badUserInput('At most 500 point ids', 'pointIds');
      return withTenant(db, scope.tenantId, async (tx) => {
        // RLS keeps the tenant; findSessions applies the MEMBER rule (own sessions only: another
        // member's points of the same tenant are left out, as the live feed expects).
        const points = await findPoints(tx, args.pointIds);
        // Ids of another tenant are invisible under RLS: like any id that does not exist, NOT_FOUND.
        const found = new Set(points.map((p) => p.id));
        if (!args.pointIds.every((id) => found.has(id))) throw notFound('Location point', 'pointIds');
        const sessions = await findSessions(tx, scope, [...new Set(points.map((p) => p.sessionId))]);
        const sessionById = new Map(sessions.map((s) => [s.id, s]));
        const pointById = new Map(points.map((p) => [p.id, p]));
        return args.pointIds.flatMap((id) => {
          const point = pointById.get(id);
          const session = point && sessionById.get(point.sessionId);
          return point && session ? [{ session, point }] : [];
        });
      });
    },

    async liveSessionEvent(
      _: unknown,
      args: { sessionId: string; type: 'STARTED' | 'ENDED'; at: Date },
      ctx: SubgraphContext,
    ) {
      const scope = scopeOf(requireTenantMember(ctx));
      const session = await getSession(db, scope, args.sessionId);
      if (!session) throw notFound('Location session', 'sessionId');
      return { type: args.type, session, at: args.at };
    },
  };
}
