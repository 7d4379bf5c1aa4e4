import type { Logger } from '@lt/logger';
import { encodeLiveEvent, tenantChannel, type LiveEvent, type PubSub } from '@lt/pubsub';

/** Live publishes since start: sent, and lost (pub/sub down: the subscribers missed the event). */
export interface LiveStats {
  published: number;
  lost: number;
}

export interface LivePublisher {
  /**
   * Announces committed changes on the tenant's live channel so every router replica can fan them
   * out. Called after the transaction commits and never awaited by the mutation: the answer of a
   * committed write does not depend on pub/sub (the outbox is the durable record). A failure is
   * counted, logged and handed to `onLost`.
   */
  announce(event: LiveEvent, log: Logger): void;
  readonly stats: LiveStats;
}

export function createLivePublisher(
  pubsub: PubSub | undefined,
  /** Told about every event the live channel lost (e.g. to tell its subscribers to resync). */
  onLost?: (event: LiveEvent, err: unknown) => void,
): LivePublisher {
  const stats: LiveStats = { published: 0, lost: 0 };
  return {
    stats,
    announce(event, log) {
      if (!pubsub) return;
      void pubsub.publish(tenantChannel(event.tenantId, 'live'), encodeLiveEvent(event)).then(
        () => void stats.published++,
        (err: unknown) => {
          stats.lost++;
          log.warn('live publish failed', {
            err: { name: (err as Error)?.name, message: (err as Error)?.message },
            tenantId: event.tenantId,
            sessionId: event.sessionId,
            kind: event.kind,
            lost: stats.lost,
          });
          try {
            onLost?.(event, err);
          } catch (e) {
            log.error('live loss hook failed', { err: e });
          }
        },
      );
    },
  };
}
