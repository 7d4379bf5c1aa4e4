import type { IdentityEvent, IdentityInvalidation, IdentityWatch } from './types';

/** One-process implementation (embedded mode, unit tests). Listener errors go to `onError`. */
export function createMemoryIdentityBus(
  options: { onError?: (err: unknown) => void } = {},
): IdentityInvalidation & IdentityWatch {
  const listeners = new Set<(e: IdentityEvent) => void>();
  return {
    async publish(event) {
      for (const l of [...listeners]) {
        try {
          l(event);
        } catch (err) {
          options.onError?.(err);
        }
      }
    },
    subscribe(listener) {
      listeners.add(listener);
      return () => listeners.delete(listener);
    },
  };
}
