import type { PubSub } from './types';

/** One-process pub/sub (embedded mode, unit tests). Delivery is asynchronous, like Redis. */
export function createMemoryPubSub(): PubSub {
  const channels = new Map<string, Set<(message: string) => void>>();
  return {
    async publish(channel, message) {
      const listeners = channels.get(channel);
      if (!listeners) return;
      // Snapshot, then deliver on the next tick: a publisher never runs listener code inline.
      const snapshot = [...listeners];
      queueMicrotask(() => {
        for (const l of snapshot) l(message);
      });
    },
    async subscribe(channel, listener) {
      let set = channels.get(channel);
      if (!set) channels.set(channel, (set = new Set()));
      // Wrap so the same function can be subscribed twice and unsubscribed independently.
      const entry = (m: string): void => listener(m);
      set.add(entry);
      return async () => {
        const s = channels.get(channel);
        if (!s) return;
        s.delete(entry);
        if (s.size === 0) channels.delete(channel);
      };
    },
    async close() {
      channels.clear();
    },
  };
}
