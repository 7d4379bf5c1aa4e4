import { withTenant } from '@lt/db';
import {
  byId,
  clampFirst,
  decodeTimeIdCursor,
  loadBatched,
  requireTenantMember,
  type SubgraphContext,
} from '@lt/server';
import { sortKey } from './connection';
import type { LocationSubgraphDeps } from '../deps';
import { listPoints, type PointRow } from '../data/points';
import { findSessions, getSession, type SessionRow } from '../data/sessions';
import { scopeOf } from '../data/scope';
import { toConnection } from './connection';

export function createTypeResolvers({ db }: LocationSubgraphDeps) {
  return {
    RecordLocationsPayload: {
      async session(p: { sessionId: string }, _: unknown, ctx: SubgraphContext) {
        return getSession(db, scopeOf(requireTenantMember(ctx)), p.sessionId);
      },
    },
    LocationSession: {
      /**
       * Entity reference from another subgraph: same visibility as `locationSession`, else null.
       * All of a request's references are one query (loadBatched).
       */
      async __resolveReference(ref: { id: string }, ctx: SubgraphContext) {
        const scope = scopeOf(requireTenantMember(ctx));
        return loadBatched(ctx, 'LocationSession', ref.id, (ids) =>
          withTenant(db, scope.tenantId, (tx) => findSessions(tx, scope, ids)).then(byId),
        );
      },
      // Entity references: the auth and tenant subgraphs resolve the rest of User / Tenant.
      user: (s: SessionRow) => ({ __typename: 'User', id: s.userId }),
      tenant: (s: SessionRow) => ({ __typename: 'Tenant', id: s.tenantId }),
      lastPoint: (s: SessionRow) => s.lastPoint ?? null,
      async points(s: SessionRow, args: { first?: number | null; after?: string | null }) {
        const first = clampFirst(args.first, { def: 50, max: 500 });
        const after = args.after ? sortKey(decodeTimeIdCursor(args.after)) : null;
        const rows = await listPoints(db, s.tenantId, s.id, first, after);
        return toConnection(rows, first, (p: PointRow) => [p.recordedAt.toISOString(), p.id]);
      },
    },
  };
}
