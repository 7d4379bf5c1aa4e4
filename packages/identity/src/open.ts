import type { Redis } from 'ioredis';
import { REDIS_SUBSCRIBE_TIMEOUT_MS } from '@lt/pubsub';
import { createMemoryIdentityBus } from './memory';
import { createRedisIdentityBus } from './redis';
import type { IdentityInvalidation, IdentityWatch } from './types';

export interface OpenedIdentityBus extends IdentityInvalidation, IdentityWatch {
  /** Unsubscribes and closes the SUBSCRIBE connection it opened; `redis` stays the caller's. */
  close(): Promise<void>;
}

export interface OpenIdentityBusOptions {
  /** Shared Redis (owned by the caller): the bus then reaches every replica. Omitted: in memory. */
  redis?: Redis;
  /** Invalid events on the channel and listener errors. */
  onError?: (err: unknown) => void;
}

/**
 * The identity bus of one process, publishing and watching. With Redis it must be the Redis bus:
 * its `publish` writes the durable effects (cache drops, revocations) before announcing, which an
 * in-memory bus cannot do for other replicas or for the Redis membership cache. It listens on a
 * SUBSCRIBE connection of its own (a duplicate of `redis` with the subscriber's longer command
 * deadline). Without Redis: one in-process bus.
 */
export async function openIdentityBus(o: OpenIdentityBusOptions = {}): Promise<OpenedIdentityBus> {
  if (!o.redis) {
    const bus = createMemoryIdentityBus(o.onError ? { onError: o.onError } : {});
    return { ...bus, close: async () => undefined };
  }
  const subscriber = o.redis.duplicate({ commandTimeout: REDIS_SUBSCRIBE_TIMEOUT_MS });
  // Connection errors are retried by ioredis and surface as failed commands; not thrown here.
  subscriber.on('error', () => undefined);
  try {
    const bus = await createRedisIdentityBus({
      redis: o.redis,
      subscriber,
      ...(o.onError ? { onError: o.onError } : {}),
    });
    return {
      publish: (event) => bus.publish(event),
      subscribe: (listener) => bus.subscribe(listener),
      async close() {
        await bus.close();
        subscriber.disconnect();
      },
    };
  } catch (err) {
    subscriber.disconnect();
    throw err;
  }
}
