/**
 * The router's Prometheus metrics, on prom-client: counters, one latency histogram and gauges read
 * at scrape time, next to prom-client's default process metrics. Label values are capped per
 * metric in count and in length, so a client cannot blow up /metrics with random or huge
 * operation names: past the count, and for any value longer than {@link MAX_LABEL_LENGTH} or
 * holding a control character, the value is `other`. prom-client escapes what is kept.
 */
import { Counter as PromCounter, Gauge, Histogram as PromHistogram, Registry } from 'prom-client';
import { processMetrics } from '@lt/server';

const BUCKETS = [0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5];
const MAX_LABEL_VALUES = 200;
export const MAX_LABEL_LENGTH = 100;
/** The value every folded label value is counted under. */
export const OTHER = 'other';

// eslint-disable-next-line no-control-regex
const CONTROL = /[\u0000-\u001f\u007f-\u009f\u2028\u2029]/;

/** The label value kept for `value`: itself, or {@link OTHER} when too long or unprintable. */
export const labelValue = (value: string): string =>
  value.length > MAX_LABEL_LENGTH || CONTROL.test(value) ? OTHER : value;

/** At most {@link MAX_LABEL_VALUES} distinct values per metric; later new ones count as `other`. */
class BoundedLabel {
  private readonly seen = new Set<string>();
  constructor(readonly name: string) {}
  of(raw: string): Record<string, string> {
    let value = labelValue(raw);
    if (!this.seen.has(value)) {
      if (this.seen.size < MAX_LABEL_VALUES) this.seen.add(value);
      else value = OTHER;
    }
    return { [this.name]: value };
  }
}

class Counter {
  private readonly counter: PromCounter<string>;
  private readonly label: BoundedLabel;
  constructor(registry: Registry, name: string, help: string, label: string) {
    this.label = new BoundedLabel(label);
    this.counter = new PromCounter({ name, help, labelNames: [label], registers: [registry] });
  }
  inc(label: string, by = 1): void {
    this.counter.inc(this.label.of(label), by);
  }
}

class Histogram {
  private readonly histogram: PromHistogram<string>;
  private readonly label: BoundedLabel;
  constructor(registry: Registry, name: string, help: string, label: string) {
    this.label = new BoundedLabel(label);
    this.histogram = new PromHistogram({ name, help, labelNames: [label], buckets: BUCKETS, registers: [registry] });
  }
  observe(label: string, seconds: number): void {
    this.histogram.observe(this.label.of(label), seconds);
  }
}

export interface RouterMetricsOptions {
  /** Add prom-client's default process metrics (event-loop lag, GC, heap, handles…). Default false. */
  processMetrics?: boolean;
}

/** The router's metrics. */
export class RouterMetrics {
  readonly registry = new Registry();
  readonly requests = new Counter(
    this.registry,
    'router_requests_total',
    'GraphQL requests by operation name',
    'operation',
  );
  readonly latency = new Histogram(
    this.registry,
    'router_request_duration_seconds',
    'GraphQL request latency by operation name',
    'operation',
  );
  readonly errors = new Counter(this.registry, 'router_errors_total', 'GraphQL errors in responses by code', 'code');
  readonly authFailures = new Counter(
    this.registry,
    'router_auth_failures_total',
    'Refused credentials by reason',
    'reason',
  );
  private readonly process: Registry | undefined;

  constructor(options: RouterMetricsOptions = {}) {
    this.process = options.processMetrics ? processMetrics() : undefined;
  }

  /** A value read at scrape time (e.g. the membership cache hit ratio). */
  gauge(name: string, help: string, read: () => number): void {
    new Gauge({
      name,
      help,
      registers: [this.registry],
      collect() {
        this.set(read());
      },
    });
  }

  /** Content type of {@link render}'s text. */
  readonly contentType = this.registry.contentType;

  /** The Prometheus text exposition: ours, then the process metrics when enabled. */
  async render(): Promise<string> {
    const ours = await this.registry.metrics();
    return this.process ? ours + (await this.process.metrics()) : ours;
  }
}
