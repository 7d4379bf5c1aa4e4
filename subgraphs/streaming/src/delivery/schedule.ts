/** Delivery tuning. Defaults follow common webhook practice (Standard Webhooks / Svix-like). */
export interface DeliveryPolicy {
  /**
   * Waits before each retry, ms; attempts = length + 1. Default 5 s, 30 s, 2 min, 10 min, 30 min,
   * 2 h, 5 h (growing; a day's outage is covered by the window below).
   */
  retryScheduleMs: readonly number[];
  /** Per-attempt deadline (DNS + connect + response), ms. Default 10_000. */
  attemptTimeoutMs: number;
  /** A sink failing continuously this long is DISABLED, ms. Default 24 h. */
  disableAfterMs: number;
  /** Consecutive failures that open a sink's breaker. Default 5. */
  breakerThreshold: number;
  /** Open breaker lets one probe through after this, ms. Default 30_000. */
  breakerHalfOpenAfterMs: number;
  /** Bytes of the response body kept on the delivery. Default 1_024. */
  maxResponseBodyBytes: number;
  /**
   * Attempts in flight per sink (a bulkhead): a hanging endpoint holds at most this many sockets
   * before its breaker opens, and cannot take the dispatcher's whole concurrency. Default 8.
   */
  maxInFlightPerSink: number;
}

export const defaultDeliveryPolicy: DeliveryPolicy = {
  retryScheduleMs: [5_000, 30_000, 120_000, 600_000, 1_800_000, 7_200_000, 18_000_000],
  attemptTimeoutMs: 10_000,
  disableAfterMs: 86_400_000,
  breakerThreshold: 5,
  breakerHalfOpenAfterMs: 30_000,
  maxResponseBodyBytes: 1_024,
  maxInFlightPerSink: 8,
};

/** What happens after a failed attempt number `attempts` (1-based). */
export function afterFailure(
  attempts: number,
  policy: DeliveryPolicy,
): { kind: 'retry'; delayMs: number } | { kind: 'dead' } {
  const delay = policy.retryScheduleMs[attempts - 1];
  return delay === undefined ? { kind: 'dead' } : { kind: 'retry', delayMs: delay };
}
