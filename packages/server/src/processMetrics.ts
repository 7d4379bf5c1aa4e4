import { Registry, collectDefaultMetrics } from 'prom-client';

let registry: Registry | undefined;

/**
 * prom-client's default metrics of this process (CPU, resident memory, heap and heap spaces,
 * event-loop lag, GC durations, active handles and requests, open file descriptors, Node
 * version), in one registry per process: however many servers a process runs (`npm start` runs
 * five), the event-loop monitor and the GC observer are set up once.
 */
export function processMetrics(): Registry {
  if (!registry) {
    registry = new Registry();
    collectDefaultMetrics({ register: registry });
  }
  return registry;
}
