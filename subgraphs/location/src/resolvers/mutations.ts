import { badUserInput, notFound } from '@lt/errors';
import { liveSessionState, pointPayload } from '@lt/events';
import { requireTenantMember, type SubgraphContext } from '@lt/server';
import type { LocationSubgraphDeps } from '../createLocationSubgraph';
import { findRetriedPoint, recordPoints, type PointRow, type RecordResult } from '../data/points';
import { scopeOf } from '../data/scope';
import { startSession, stopSession, type SessionRow } from '../data/sessions';
import { FenceIndexCache } from '../geofence/fenceIndex';
import { createLivePublisher } from '../events/live';
import { MAX_DEVICE_ID_LENGTH, validateBatch, validateLocation, type LocationInput } from '../validation';
import { filteredCounts, filteredError } from '../fleet/resolvers';
import { fleetHooks, fleetRules } from '../fleet/state';

/** The live event's payload: the committed points' public fields and the session after the commit. */
function livePayload(r: RecordResult, rows: PointRow[]) {
  return {
    session: liveSessionState({ id: r.sessionId, userId: r.userId, ...r.session }),
    points: rows.map(pointPayload),
  };
}

export function createMutationResolvers(deps: LocationSubgraphDeps) {
  const { db } = deps;
  const now = deps.now ?? (() => new Date());
  // Announced after the commit, never awaited: the mutation's answer does not depend on pub/sub.
  const live = deps.live ?? createLivePublisher(deps.pubsub, deps.onLiveLost);
  const fences = deps.fenceIndexes ?? new FenceIndexCache();

  /** Geofence transitions go out after the points' own event (best effort, like every live event). */
  const announceGeofences = (tenantId: string, r: RecordResult, ctx: SubgraphContext) => {
    if (r.geofences.events.length === 0) return;
    live.announce(
      {
        kind: 'geofence',
        tenantId,
        sessionId: r.sessionId,
        userId: r.userId,
        events: r.geofences.events.map((e) => ({ id: e.id, geofenceId: e.geofenceId })),
        publishedAt: Date.now(),
      },
      ctx.log,
    );
  };

  const rules = fleetRules(deps.fleet);
  const hooks = rules.enabled ? fleetHooks(rules) : undefined;

  const announceSession = (s: SessionRow, type: 'STARTED' | 'ENDED', at: Date, ctx: SubgraphContext): void =>
    live.announce(
      {
        kind: 'session',
        tenantId: s.tenantId,
        sessionId: s.id,
        userId: s.userId,
        type,
        at: at.toISOString(),
        publishedAt: Date.now(),
      },
      ctx.log,
    );

  const announcePoints = (tenantId: string, r: RecordResult, ctx: SubgraphContext): void => {
    if (r.inserted.length > 0)
      live.announce(
        {
          kind: 'location',
          tenantId,
          sessionId: r.sessionId,
          userId: r.userId,
          points: r.inserted.map((p) => ({ id: p.id, recordedAt: p.recordedAt.toISOString() })),
          // Small batches carry their fields: the router serves location-only selections from it.
          ...(r.rows ? { payload: livePayload(r, r.rows) } : {}),
          publishedAt: Date.now(),
        },
        ctx.log,
      );
  };

  return {
    async startLocationSession(
      _: unknown,
      args: { input?: { deviceId?: string | null } | null },
      ctx: SubgraphContext,
    ) {
      const scope = scopeOf(requireTenantMember(ctx));
      const deviceId = args.input?.deviceId ?? null;
      if (deviceId !== null && (deviceId.length === 0 || deviceId.length > MAX_DEVICE_ID_LENGTH))
        throw badUserInput(`deviceId must be 1 to ${MAX_DEVICE_ID_LENGTH} characters`, 'input.deviceId');
      const at = now();
      const session = await startSession(db, scope, deviceId, at);
      announceSession(session, 'STARTED', at, ctx);
      return session;
    },

    async recordLocation(_: unknown, args: { sessionId: string; location: LocationInput }, ctx: SubgraphContext) {
      const scope = scopeOf(requireTenantMember(ctx));
      validateLocation(args.location, 'location', now());
      const r = await recordPoints(db, scope, args.sessionId, [args.location], () => 'location', fences, hooks);
      if (r.filtered[0]) throw filteredError(r.filtered[0].reason);
      announcePoints(scope.tenantId, r, ctx);
      announceGeofences(scope.tenantId, r, ctx);
      if (r.stored) return r.stored;
      // A retry: answer with the point the first attempt stored.
      const stored = await findRetriedPoint(db, scope, args.sessionId, args.location);
      if (!stored) throw notFound('Location point');
      return stored;
    },

    async recordLocations(_: unknown, args: { sessionId: string; locations: LocationInput[] }, ctx: SubgraphContext) {
      const scope = scopeOf(requireTenantMember(ctx));
      validateBatch(args.locations, now());
      const r = await recordPoints(db, scope, args.sessionId, args.locations, (i) => `locations[${i}]`, fences, hooks);
      announcePoints(scope.tenantId, r, ctx);
      announceGeofences(scope.tenantId, r, ctx);
      // `session` is resolved only when selected (RecordLocationsPayload.session).
      return {
        accepted: r.inserted.length,
        duplicates: r.duplicates,
        filtered: filteredCounts(r),
        sessionId: args.sessionId,
      };
    },

    async stopLocationSession(_: unknown, args: { id: string }, ctx: SubgraphContext) {
      const scope = scopeOf(requireTenantMember(ctx));
      const at = now();
      const r = await stopSession(db, scope, args.id, at);
      if (!r) throw notFound('Location session', 'id');
      if (r.ended) announceSession(r.session, 'ENDED', at, ctx);
      return r.session;
    },
  };
}
