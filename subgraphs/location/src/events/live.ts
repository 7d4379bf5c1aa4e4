import type { Logger } from '@lt/logger';
import { encodeLiveEvent, tenantChannel, type LiveEvent, type PubSub } from '@lt/pubsub';

/**
 * Announces committed changes on the tenant's live channel so every router replica can fan them
 * out. Called after the transaction commits; best effort (the outbox is the durable record), so a
 * pub/sub failure is logged, never turned into a failed mutation.
 */
export async function publishLive(pubsub: PubSub | undefined, log: Logger, event: LiveEvent): Promise<void> {
  if (!pubsub) return;
  try {
    await pubsub.publish(tenantChannel(event.tenantId, 'live'), encodeLiveEvent(event));
  } catch (err) {
    log.warn('live publish failed', { err, tenantId: event.tenantId, kind: event.kind });
  }
}
