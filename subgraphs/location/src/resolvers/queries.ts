import { withTenant } from '@lt/db';
import { notFound } from '@lt/errors';
import { clampFirst, decodeCursor, requireTenantMember, type SubgraphContext } from '@lt/server';
import type { LocationSubgraphDeps } from '../createLocationSubgraph';
import { findPoint } from '../data/points';
import { scopeOf } from '../data/scope';
import { findSession, getSession, listSessions } from '../data/sessions';
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
      const after = args.after ? (decodeCursor(args.after, 2) as [string, string]) : null;
      const rows = await listSessions(db, scope, {
        status: args.status ?? null,
        userId: args.userId ?? null,
        first,
        after,
      });
      return toConnection(rows, first, (s) => [s.startedAt.toISOString(), s.id]);
    },

    async liveLocationUpdate(_: unknown, args: { sessionId: string; pointId: string }, ctx: SubgraphContext) {
      const scope = scopeOf(requireTenantMember(ctx));
      const found = await withTenant(db, scope.tenantId, async (tx) => {
        const session = await findSession(tx, scope, args.sessionId);
        const point = session ? await findPoint(tx, session.id, args.pointId) : null;
        return session && point ? { session, point } : null;
      });
      if (!found) throw notFound('Location update', 'pointId');
      return found;
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
