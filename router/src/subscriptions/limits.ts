export interface SubscriptionLimits {
  /** Active subscriptions per WebSocket. Default 20. */
  perConnection?: number;
  /** Active subscriptions per tenant on this replica. Default 2_000. */
  perTenant?: number;
  /**
   * Unsent bytes a socket may hold (results written but not yet taken by the client) before the
   * connection is dropped as a slow consumer (4008). Default 4 MiB, min 512 KiB: one commit
   * (a 1,000-point batch) arrives as one burst and a healthy consumer must be able to take it.
   */
  maxBufferedBytes?: number;
  /** Gateway executions in flight for live events, across all subscriptions. Default 32. */
  maxConcurrentExecutions?: number;
  /**
   * Points (or session events) waiting to be resolved per group of identical subscriptions.
   * Past it new events are not queued and the group's subscribers get a gap marker
   * (`LIVE_EVENTS_MISSED`) in their place. Default 50_000 (50 batches of 1,000; ids only, a few MB).
   */
  maxGroupBacklog?: number;
  /** Largest client message, bytes. Default 64 KiB. */
  maxPayloadBytes?: number;
}

/** The smallest slow-consumer limit: a 1,000-point burst of a small selection fits. */
const MIN_BUFFERED_BYTES = 512 * 1024;

/** The limits with their defaults applied (PROTOCOL.md, "Limits"). */
export function resolveLimits(l: SubscriptionLimits = {}): Required<SubscriptionLimits> {
  return {
    perConnection: l.perConnection ?? 20,
    perTenant: l.perTenant ?? 2_000,
    maxBufferedBytes: Math.max(l.maxBufferedBytes ?? 4 * 1024 * 1024, MIN_BUFFERED_BYTES),
    maxConcurrentExecutions: l.maxConcurrentExecutions ?? 32,
    maxGroupBacklog: l.maxGroupBacklog ?? 50_000,
    maxPayloadBytes: l.maxPayloadBytes ?? 64 * 1024,
  };
}
