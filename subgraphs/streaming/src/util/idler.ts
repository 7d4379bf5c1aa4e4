/**
 * The pause of a poll loop: `idle(ms)` waits `ms`, or less when `wake()` says there is work.
 * With `keepWake`, a wake that arrives while the loop is busy is kept for its next `idle` (so it is
 * never lost); `clear()` forgets it at the start of a round. After `stop()` every pause is instant.
 */
export function createIdler({ keepWake = false }: { keepWake?: boolean } = {}) {
  let pending = false;
  let stopped = false;
  let wakeUp: (() => void) | undefined;
  return {
    idle(ms: number): Promise<void> {
      if (stopped || pending) return Promise.resolve();
      return new Promise((resolve) => {
        const t = setTimeout(() => {
          wakeUp = undefined;
          resolve();
        }, ms);
        wakeUp = () => {
          clearTimeout(t);
          wakeUp = undefined;
          resolve();
        };
      });
    },
    wake(): void {
      if (keepWake) pending = true;
      wakeUp?.();
    },
    clear(): void {
      pending = false;
    },
    stop(): void {
      stopped = true;
      wakeUp?.();
    },
  };
}
