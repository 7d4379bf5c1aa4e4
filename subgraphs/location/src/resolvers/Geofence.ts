import { isUuid } from '@lt/context';
import { withTenant, type Db } from '@lt/db';
import { badUserInput, notFound } from '@lt/errors';
import { clampFirst, decodeCursor, requireRole, requireTenantMember, type SubgraphContext } from '@lt/server';
import type { LocationSubgraphDeps } from '../deps';
import {
  createGeofence,
  deleteGeofence,
  fencesInside,
  findGeofenceEvents,
  findGeofences,
  getGeofence,
  listGeofenceEvents,
  listGeofences,
  updateGeofence,
  type GeofenceEventRow,
  type GeofenceRow,
} from '../data/geofences';
import { findPoints } from '../data/points';
import { scopeOf, type Scope } from '../data/scope';
import { findSessions, type SessionRow } from '../data/sessions';
import { validateGeofenceInput, type CreateGeofenceInput, type UpdateGeofenceInput } from '../geofence/validate';
import { toConnection } from './connection';

/** Default per-tenant cap (GEOFENCES_MAX_PER_TENANT). */
export const DEFAULT_MAX_GEOFENCES = 10_000;

/** Events with their fence, session and point loaded in one transaction (no query per event). */
async function hydrate(db: Db, scope: Scope, rows: GeofenceEventRow[]) {
  if (rows.length === 0) return [];
  return withTenant(db, scope.tenantId, async (tx) => {
    const fences = await findGeofences(tx, [...new Set(rows.map((r) => r.geofenceId))], true);
    const sessions = await findSessions(tx, scope, [...new Set(rows.map((r) => r.sessionId))]);
    const points = await findPoints(
      tx,
      rows.map((r) => r.pointId),
    );
    const fenceById = new Map(fences.map((f) => [f.id, f]));
    const sessionById = new Map(sessions.map((s) => [s.id, s]));
    const pointById = new Map(points.map((p) => [p.id, p]));
    return rows.flatMap((r) => {
      const geofence = fenceById.get(r.geofenceId);
      const session = sessionById.get(r.sessionId);
      const point = pointById.get(r.pointId);
      return geofence && session && point ? [{ ...r, geofence, session, point }] : [];
    });
  });
}

export function createGeofenceResolvers(deps: LocationSubgraphDeps) {
  const { db } = deps;
  const cap = deps.maxGeofencesPerTenant ?? DEFAULT_MAX_GEOFENCES;
  const admin = (ctx: SubgraphContext) => {
    requireRole(ctx, 'TENANT_ADMIN');
    return requireTenantMember(ctx);
  };

  return {
    Query: {
      async geofences(
        _: unknown,
        args: { tag?: string | null; first?: number | null; after?: string | null },
        ctx: SubgraphContext,
      ) {
        const m = requireTenantMember(ctx);
        const first = clampFirst(args.first);
        const after = args.after ? (decodeCursor(args.after, 2) as [string, string]) : null;
        if (after && (!isUuid(after[1]) || Number.isNaN(Date.parse(after[0]))))
          throw badUserInput('Invalid cursor', 'after');
        const rows = await listGeofences(db, m.tenantId, { tag: args.tag ?? null, first, after });
        return toConnection(rows, first, (g) => [g.createdAt.toISOString(), g.id]);
      },

      async geofence(_: unknown, args: { id: string }, ctx: SubgraphContext) {
        const m = requireTenantMember(ctx);
        const g = await getGeofence(db, m.tenantId, args.id);
        if (!g) throw notFound('Geofence', 'id');
        return g;
      },

      async geofenceEvents(
        _: unknown,
        args: { geofenceId?: string | null; sessionId?: string | null; first?: number | null; after?: string | null },
        ctx: SubgraphContext,
      ) {
        const scope = scopeOf(requireTenantMember(ctx));
        const first = clampFirst(args.first);
        const after = args.after ? (decodeCursor(args.after, 1)[0] ?? null) : null;
        if (after !== null && !/^\d{1,19}$/.test(String(after))) throw badUserInput('Invalid cursor', 'after');
        const rows = await listGeofenceEvents(db, scope, {
          geofenceId: args.geofenceId ?? null,
          sessionId: args.sessionId ?? null,
          first,
          after: after === null ? null : BigInt(after),
        });
        const page = rows.slice(0, first);
        const hydrated = new Map((await hydrate(db, scope, page)).map((e) => [e.id, e]));
        const edges = toConnection(rows, first, (e) => [e.seq.toString()]);
        return {
          edges: edges.edges.flatMap((e) => {
            const node = hydrated.get(e.node.id);
            return node ? [{ cursor: e.cursor, node }] : [];
          }),
          pageInfo: edges.pageInfo,
        };
      },

      async liveGeofenceEvents(_: unknown, args: { eventIds: string[] }, ctx: SubgraphContext) {
        const scope = scopeOf(requireTenantMember(ctx));
        if (args.eventIds.length > 500) throw badUserInput('At most 500 event ids', 'eventIds');
        return hydrate(db, scope, await findGeofenceEvents(db, scope, args.eventIds));
      },
    },

    Mutation: {
      async createGeofence(_: unknown, args: { input: CreateGeofenceInput }, ctx: SubgraphContext) {
        const m = admin(ctx);
        const c = validateGeofenceInput(args.input, true);
        return createGeofence(
          db,
          m.tenantId,
          { name: c.name!, shape: c.shape!, tags: c.tags ?? [], dwellSeconds: c.dwellSeconds ?? null },
          cap,
        );
      },

      async updateGeofence(_: unknown, args: { id: string; input: UpdateGeofenceInput }, ctx: SubgraphContext) {
        const m = admin(ctx);
        const c = validateGeofenceInput(args.input, false);
        const g = await updateGeofence(db, m.tenantId, args.id, c);
        if (!g) throw notFound('Geofence', 'id');
        return g;
      },

      async deleteGeofence(_: unknown, args: { id: string }, ctx: SubgraphContext) {
        const m = admin(ctx);
        if (!(await deleteGeofence(db, m.tenantId, args.id))) throw notFound('Geofence', 'id');
        return true;
      },
    },

    Geofence: {
      async __resolveReference(ref: { id: string }, ctx: SubgraphContext) {
        return getGeofence(db, requireTenantMember(ctx).tenantId, ref.id);
      },
      shape: (g: GeofenceRow) =>
        g.shape.type === 'CIRCLE'
          ? { ...g.shape, polygon: null }
          : { type: 'POLYGON', latitude: null, longitude: null, radiusMeters: null, polygon: g.shape.polygon },
    },

    /** Added to LocationSession's resolvers. */
    geofencesInside: (s: SessionRow) => fencesInside(db, s.tenantId, s.id),
  };
}
