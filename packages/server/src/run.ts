import type { Logger } from '@lt/logger';

/**
 * Runs a started service until SIGTERM/SIGINT, then stops it once, in order, with a deadline.
 * Only `index.ts` files call this (they are the only ones that trap signals).
 */
export function runUntilSignal(stop: () => Promise<void>, log: Logger, deadlineMs = 15_000): void {
  let stopping = false;
  const onSignal = (signal: NodeJS.Signals): void => {
    if (stopping) return;
    stopping = true;
    log.info('stopping', { signal });
    const timer = setTimeout(() => {
      log.error('stop deadline exceeded, exiting', { deadlineMs });
      process.exit(1);
    }, deadlineMs);
    timer.unref();
    stop().then(
      () => {
        log.info('stopped');
        process.exit(0);
      },
      (err: unknown) => {
        log.error('stop failed', { err });
        process.exit(1);
      },
    );
  };
  process.once('SIGTERM', onSignal);
  process.once('SIGINT', onSignal);
}
