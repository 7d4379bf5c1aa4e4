import { randomUUID } from 'node:crypto';
import { GraphQLError, parse } from 'graphql';
import { ErrorCode, notFound } from '@lt/errors';
import type { RouterInternals } from '../createRouter';
import { Fanout, type Subscriber } from './fanout';
import { eventVariables, type LiveField, type LiveOperation } from './operation';

/**
 * Admission of a subscription before it goes live: the session or geofence it names is visible to
 * the caller (other tenants' ids are NOT_FOUND), and a probe of the re-read (no event matches the
 * nil id) passes: operation limits, field authorization and other plugin refusals reach the
 * client here, not silently per event.
 *
 * Identical subscriptions in one scope get identical answers: a live group means its admission
 * passed, and concurrent admissions of one group share one check (a reconnect storm of a thousand
 * dashboards costs one check per group, not thousands of gateway calls).
 */
export class Admission {
  /** Admission checks in flight, by group key. */
  private readonly inFlight = new Map<string, Promise<GraphQLError[]>>();
  /** Checks run since start. */
  runs = 0;

  constructor(
    private readonly execute: RouterInternals['execute'],
    private readonly fanout: Fanout,
  ) {}

  /**
   * The check of a subscription of this caller and operation: it resolves to why it is refused,
   * empty when it may go live. Null when its group is live already (admitted, nothing to wait for).
   */
  check(caller: Subscriber['caller'], op: LiveOperation): Promise<readonly GraphQLError[]> | null {
    const key = Fanout.groupKey(caller.membership, op);
    if (this.fanout.hasGroup(caller.membership.tenantId, key)) return null;
    let check = this.inFlight.get(key);
    if (!check) {
      check = this.admit(caller, op).finally(() => this.inFlight.delete(key));
      this.inFlight.set(key, check);
    }
    return check;
  }

  private async admit(caller: Subscriber['caller'], op: LiveOperation): Promise<GraphQLError[]> {
    this.runs++;
    if (op.sessionId !== null) {
      const seen = await this.execute({ ...caller, requestId: randomUUID() }, SESSION_VISIBLE, { id: op.sessionId });
      const session = (seen.data as { locationSession?: unknown } | null | undefined)?.locationSession;
      if (!session) {
        const code = seen.errors?.[0]?.extensions?.['code'];
        if (code && code !== ErrorCode.NOT_FOUND)
          return [new GraphQLError(seen.errors![0]!.message, { extensions: { code } })];
        return [notFound('Location session', 'sessionId')];
      }
    }
    if (op.geofenceId !== null) {
      const seen = await this.execute({ ...caller, requestId: randomUUID() }, GEOFENCE_VISIBLE, { id: op.geofenceId });
      if (!(seen.data as { geofence?: unknown } | null | undefined)?.geofence) {
        const code = seen.errors?.[0]?.extensions?.['code'];
        if (code && code !== ErrorCode.NOT_FOUND)
          return [new GraphQLError(seen.errors![0]!.message, { extensions: { code } })];
        return [notFound('Geofence', 'geofenceId')];
      }
    }
    const probe = await this.execute(
      { ...caller, requestId: randomUUID() },
      op.refetch,
      eventVariables(op, PROBE[op.field]),
    );
    const refused = probe.errors?.filter((e) => e.extensions?.['code'] !== ErrorCode.NOT_FOUND) ?? [];
    return refused.map((e) => new GraphQLError(e.message, { extensions: e.extensions ?? {} }));
  }
}

const NIL = '00000000-0000-0000-0000-000000000000';
const PROBE: Record<LiveField, Record<string, unknown>> = {
  locationUpdated: { pointIds: [] },
  sessionEvents: { sessionId: NIL, type: 'STARTED', at: new Date(0).toISOString() },
  geofenceEvents: { eventIds: [] },
};
const GEOFENCE_VISIBLE = parse('query SubscriptionGeofence($id: ID!) { geofence(id: $id) { id } }');

const SESSION_VISIBLE = parse('query SubscriptionVisibility($id: ID!) { locationSession(id: $id) { id } }');
