/**
 * Coalesces writes: while one `flush` runs, what is added meanwhile waits and goes into the next
 * one, so under load one statement carries many items and an idle caller pays one round trip.
 * `add` resolves once its items were flushed (rejects if that flush failed).
 */
export function createCoalescer<T>(flush: (items: T[]) => Promise<void>) {
  let queue: { items: readonly T[]; resolve: () => void; reject: (err: unknown) => void }[] = [];
  let running: Promise<void> | undefined;

  async function drain(): Promise<void> {
    while (queue.length > 0) {
      const waiting = queue;
      queue = [];
      try {
        await flush(waiting.flatMap((w) => w.items));
        for (const w of waiting) w.resolve();
      } catch (err) {
        for (const w of waiting) w.reject(err);
      }
    }
    running = undefined;
  }

  return {
    add(items: readonly T[]): Promise<void> {
      if (items.length === 0) return Promise.resolve();
      return new Promise<void>((resolve, reject) => {
        queue.push({ items, resolve, reject });
        running ??= drain();
      });
    },
    /** Resolves once everything added so far has been flushed (or failed). */
    idle(): Promise<void> {
      return running ?? Promise.resolve();
    },
  };
}
