import type { Logger } from '@lt/logger';
import { createIdler } from '../util/idler';

/**
 * The loop both dispatchers run: lease up to the free slots of `concurrency`, start an attempt per
 * leased item, and sleep (woken early by `wake()` or a finishing attempt) when nothing was leased or
 * every slot is busy. `stop()` lets the attempts in flight finish.
 */
export function createLeaseLoop<T>(o: {
  concurrency: number;
  pollMs: number;
  log: Logger;
  /** For log lines: 'delivery' or 'batch'. */
  what: string;
  lease(free: number): Promise<T[]>;
  attempt(item: T): Promise<void>;
  /** An attempt threw (a database error): log it, give its lease back if that is possible. */
  crashed(item: T, err: unknown): Promise<void>;
  /** How long to sleep when nothing was leased, ms. Default pollMs. */
  idleMs?(): Promise<number>;
}) {
  const inflight = new Set<Promise<void>>();
  // An attempt finishing mid-lease wakes the loop for the next lease (kept until it idles).
  const idler = createIdler({ keepWake: true });
  let stopping = false;
  let loop: Promise<void> | undefined;

  async function run(): Promise<void> {
    while (!stopping) {
      idler.clear();
      const free = o.concurrency - inflight.size;
      let leased: T[] = [];
      if (free > 0) {
        try {
          leased = await o.lease(free);
        } catch (err) {
          o.log.warn(`${o.what} lease failed`, { err: String(err) });
        }
      }
      for (const item of leased) {
        const p: Promise<void> = o
          .attempt(item)
          .catch((err: unknown) => o.crashed(item, err))
          .finally(() => {
            inflight.delete(p);
            idler.wake();
          });
        inflight.add(p);
      }
      if (inflight.size >= o.concurrency) await idler.idle(o.pollMs);
      else if (leased.length === 0) await idler.idle(o.idleMs ? await o.idleMs().catch(() => o.pollMs) : o.pollMs);
    }
    await Promise.allSettled([...inflight]);
  }

  return {
    start(): void {
      loop ??= run();
    },
    wake(): void {
      idler.wake();
    },
    get stopping(): boolean {
      return stopping;
    },
    async stop(): Promise<void> {
      stopping = true;
      idler.stop();
      await loop;
    },
  };
}
