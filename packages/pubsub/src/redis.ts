import type { Redis } from 'ioredis';
import type { PubSub } from './types';

export interface RedisPubSubOptions {
  /** Connection used for PUBLISH (may be shared with other commands). */
  publisher: Redis;
  /** Dedicated connection: once it SUBSCRIBEs, Redis allows it nothing but pub/sub commands. */
  subscriber: Redis;
}

/**
 * Redis pub/sub: every process subscribed to a channel receives its messages, so a mutation
 * handled by one replica reaches subscribers on all of them. One SUBSCRIBE per channel per
 * process, however many local listeners. The caller owns (and quits) both connections.
 */
export function createRedisPubSub({ publisher, subscriber }: RedisPubSubOptions): PubSub {
  const channels = new Map<string, Set<(message: string) => void>>();
  // The SUBSCRIBE in flight per channel: a second local listener waits for the same confirmation.
  const confirmed = new Map<string, Promise<unknown>>();
  const onMessage = (channel: string, message: string): void => {
    const listeners = channels.get(channel);
    if (!listeners) return;
    for (const l of [...listeners]) l(message);
  };
  subscriber.on('message', onMessage);
  // Redis pub/sub is at-most-once: while the subscription connection is down, messages are lost.
  // ioredis re-subscribes on reconnect; 'ready' after a drop is when listeners learn of the gap.
  const gapListeners = new Set<() => void>();
  let dropped = false;
  const onDrop = (): void => {
    dropped = true;
  };
  const onReady = (): void => {
    if (!dropped) return;
    dropped = false;
    for (const l of [...gapListeners]) l();
  };
  subscriber.on('close', onDrop);
  subscriber.on('ready', onReady);

  return {
    async publish(channel, message) {
      await publisher.publish(channel, message);
    },
    async subscribe(channel, listener) {
      let set = channels.get(channel);
      if (!set) {
        channels.set(channel, (set = new Set()));
        confirmed.set(channel, subscriber.subscribe(channel));
      }
      const entry = (m: string): void => listener(m);
      set.add(entry);
      // Redis confirms SUBSCRIBE before resolving: messages published afterwards are delivered.
      const joining = confirmed.get(channel);
      try {
        await joining;
      } catch (err) {
        // Not joined (Redis down): forget this listener, and the channel if it was the last one, so
        // the next subscribe sends SUBSCRIBE again instead of reusing the failure.
        set.delete(entry);
        if (set.size === 0 && channels.get(channel) === set) {
          channels.delete(channel);
          if (confirmed.get(channel) === joining) confirmed.delete(channel);
        }
        throw err;
      }
      let done = false;
      return async () => {
        if (done) return;
        done = true;
        const s = channels.get(channel);
        if (!s) return;
        s.delete(entry);
        if (s.size === 0) {
          channels.delete(channel);
          confirmed.delete(channel);
          await subscriber.unsubscribe(channel).catch(() => undefined);
        }
      };
    },
    onGap(listener) {
      const entry = (): void => listener();
      gapListeners.add(entry);
      return () => {
        gapListeners.delete(entry);
      };
    },
    async close() {
      gapListeners.clear();
      subscriber.off('close', onDrop);
      subscriber.off('ready', onReady);
      const names = [...channels.keys()];
      channels.clear();
      confirmed.clear();
      subscriber.off('message', onMessage);
      if (names.length > 0 && subscriber.status === 'ready')
        await subscriber.unsubscribe(...names).catch(() => undefined);
    },
  };
}
