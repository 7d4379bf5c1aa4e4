import { badUserInput, notFound } from '@lt/errors';
import { requireTenantMember, type SubgraphContext } from '@lt/server';
import { scopeOf } from '../data/scope';
import type { RecordingDeps } from '../deps';
import { filteredCounts } from '../fleet/filters';
import { recordLocation, recordLocations } from '../useCases/recordLocations';
import { endSession, startSession } from '../useCases/sessions';
import { MAX_DEVICE_ID_LENGTH, validateBatch, validateLocation, type LocationInput } from '../validation';

export function createMutationResolvers(d: RecordingDeps) {
  return {
    startLocationSession(_: unknown, args: { input?: { deviceId?: string | null } | null }, ctx: SubgraphContext) {
      const scope = scopeOf(requireTenantMember(ctx));
      const deviceId = args.input?.deviceId ?? null;
      if (deviceId !== null && (deviceId.length === 0 || deviceId.length > MAX_DEVICE_ID_LENGTH))
        throw badUserInput(`deviceId must be 1 to ${MAX_DEVICE_ID_LENGTH} characters`, 'input.deviceId');
      return startSession(d, scope, deviceId, ctx.log);
    },

    recordLocation(_: unknown, args: { sessionId: string; location: LocationInput }, ctx: SubgraphContext) {
      const scope = scopeOf(requireTenantMember(ctx));
      validateLocation(args.location, 'location', d.now());
      return recordLocation(d, scope, args.sessionId, args.location, ctx.log);
    },

    async recordLocations(_: unknown, args: { sessionId: string; locations: LocationInput[] }, ctx: SubgraphContext) {
      const scope = scopeOf(requireTenantMember(ctx));
      validateBatch(args.locations, d.now());
      const r = await recordLocations(d, scope, args.sessionId, args.locations, (i) => `locations[${i}]`, ctx.log);
      // `session` is resolved only when selected (RecordLocationsPayload.session).
      return {
        accepted: r.inserted.length,
        duplicates: r.duplicates,
        filtered: filteredCounts(r),
        sessionId: args.sessionId,
      };
    },

    async stopLocationSession(_: unknown, args: { id: string }, ctx: SubgraphContext) {
      const session = await endSession(d, scopeOf(requireTenantMember(ctx)), args.id, ctx.log);
      if (!session) throw notFound('Location session', 'id');
      return session;
    },
  };
}
