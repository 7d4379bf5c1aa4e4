import type { Redis } from 'ioredis';
import { parseIdentityEvent } from './event';
import { identityKeys } from './keys';
import type { IdentityEvent, IdentityInvalidation, IdentityWatch } from './types';

export interface RedisIdentityBusOptions {
  /** Commands (SET/DEL/PUBLISH). Owned by the caller. */
  redis: Redis;
  /**
   * A connection dedicated to SUBSCRIBE (a subscribed connection can run nothing else). Owned by
   * the caller; omit it on publish-only processes (subgraphs), then `subscribe` throws.
   */
  subscriber?: Redis;
  /** Called with events that fail validation or listener errors (never thrown into ioredis). */
  onError?: (err: unknown) => void;
  /** Clock, ms since epoch (tests). */
  now?: () => number;
}

export interface RedisIdentityBus extends IdentityInvalidation, IdentityWatch {
  /** Unsubscribes the channel (the connections stay open: the caller owns them). */
  close(): Promise<void>;
}

/**
 * Cross-replica implementation. `publish` first records the durable effect of the event in Redis
 * (so a router replica that missed the message, or starts later, still sees it on its next cache
 * miss) and then publishes it for the replicas that are listening:
 * - `token.revoked`: `identity:revoked:<tokenId>` until the token would have expired;
 * - `user.changed`: the cached membership of that `sub` is deleted;
 * - `tenant.status`: every cached membership of that tenant is deleted;
 * - `user.signed_out`: `identity:signedout:<sub>` = the time, for a day.
 * Pub/sub is at-most-once: routers also bound their in-process caches by a few seconds. Listeners
 * in the publishing process are notified synchronously as well.
 */
/** How long a sign-out everywhere is remembered: the longest Cognito access-token lifetime. */
export const SIGNED_OUT_TTL_SECONDS = 24 * 3600;

export async function createRedisIdentityBus(o: RedisIdentityBusOptions): Promise<RedisIdentityBus> {
  const listeners = new Set<(e: IdentityEvent) => void>();
  const now = o.now ?? Date.now;
  const onError = o.onError ?? (() => undefined);
  const notify = (event: IdentityEvent): void => {
    for (const l of [...listeners]) {
      try {
        l(event);
      } catch (err) {
        onError(err);
      }
    }
  };
  const onMessage = (channel: string, message: string): void => {
    if (channel !== identityKeys.channel) return;
    const event = parseIdentityEvent(message);
    if (!event) return onError(new Error('invalid identity event on the channel'));
    notify(event);
  };
  if (o.subscriber) {
    o.subscriber.on('message', onMessage);
    await o.subscriber.subscribe(identityKeys.channel);
  }

  return {
    async publish(event) {
      const r = o.redis;
      switch (event.type) {
        case 'token.revoked': {
          const ttl = Math.max(1, Math.ceil(event.expiresAt - now() / 1000));
          await r.set(identityKeys.revoked(event.tokenId), '1', 'EX', ttl);
          break;
        }
        case 'user.changed':
          await r.del(identityKeys.membership(event.sub));
          break;
        case 'tenant.status': {
          const setKey = identityKeys.tenantSubs(event.tenantId);
          const subs = await r.smembers(setKey);
          const keys = subs.map((s) => identityKeys.membership(s));
          await r.del(setKey, ...keys);
          break;
        }
        case 'user.signed_out':
          await r.set(identityKeys.signedOut(event.sub), String(event.before), 'EX', SIGNED_OUT_TTL_SECONDS);
          break;
        default: {
          const never: never = event;
          throw new Error(`unknown identity event ${String(never)}`);
        }
      }
      await r.publish(identityKeys.channel, JSON.stringify(event));
      // This process's own listeners hear it now, not after the round trip through the channel:
      // a request that follows the change here must see it. (Their echo from Redis is harmless:
      // every listener's effect — drop a cache entry, close sockets — is idempotent.)
      notify(event);
    },
    subscribe(listener) {
      if (!o.subscriber) throw new Error('createRedisIdentityBus: subscribe needs a subscriber connection');
      listeners.add(listener);
      return () => listeners.delete(listener);
    },
    async close() {
      listeners.clear();
      if (o.subscriber) {
        o.subscriber.off('message', onMessage);
        if (o.subscriber.status === 'ready') await o.subscriber.unsubscribe(identityKeys.channel);
      }
    },
  };
}
