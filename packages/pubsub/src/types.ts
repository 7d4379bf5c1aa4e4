/**
 * Fire-and-forget messages on named channels, shared by every process that holds the same
 * transport (one process: memory; several router replicas: Redis). At-most-once: a listener that
 * is not subscribed when a message is published never sees it.
 */
export interface PubSub {
  /** Publishes `message` on `channel`; resolves once the transport accepted it. */
  publish(channel: string, message: string): Promise<void>;
  /**
   * Listens on `channel`. Resolves once the subscription is active, so a message published after
   * it resolves is delivered. Returns the unsubscribe function (idempotent).
   */
  subscribe(channel: string, listener: (message: string) => void): Promise<() => Promise<void>>;
  /**
   * Registers `listener` for losses of the transport itself: called once each time the
   * subscription connection came back after dropping (every channel may have missed messages in
   * between). Returns the unregister function. Absent on transports that cannot lose messages.
   */
  onGap?(listener: () => void): () => void;
  /** Drops every listener. Connections passed in by the caller stay open (the caller owns them). */
  close(): Promise<void>;
}
