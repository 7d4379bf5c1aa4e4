/**
 * A tiny Prometheus registry (text exposition format 0.0.4): counters, one latency histogram and
 * gauges read at scrape time. Label values are capped per metric in count and in length, so a
 * client cannot blow up /metrics with random or huge operation names: past the count, and for
 * any value longer than {@link MAX_LABEL_LENGTH} or holding a control character, the value is
 * `other`.
 */
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

const esc = (v: string): string => v.replace(/\\/g, '\\\\').replace(/"/g, '\\"').replace(/\n/g, '\\n');

class Counter {
  private readonly values = new Map<string, number>();
  constructor(
    readonly name: string,
    readonly help: string,
    readonly label: string,
  ) {}
  inc(label: string, by = 1): void {
    const value = labelValue(label);
    const key = this.values.has(value) || this.values.size < MAX_LABEL_VALUES ? value : OTHER;
    this.values.set(key, (this.values.get(key) ?? 0) + by);
  }
  render(): string[] {
    const out = [`# HELP ${this.name} ${this.help}`, `# TYPE ${this.name} counter`];
    for (const [v, n] of this.values) out.push(`${this.name}{${this.label}="${esc(v)}"} ${n}`);
    return out;
  }
}

class Histogram {
  private readonly series = new Map<string, { buckets: number[]; sum: number; count: number }>();
  constructor(
    readonly name: string,
    readonly help: string,
    readonly label: string,
  ) {}
  observe(label: string, seconds: number): void {
    const value = labelValue(label);
    const key = this.series.has(value) || this.series.size < MAX_LABEL_VALUES ? value : OTHER;
    let s = this.series.get(key);
    if (!s) this.series.set(key, (s = { buckets: BUCKETS.map(() => 0), sum: 0, count: 0 }));
    BUCKETS.forEach((b, i) => {
      if (seconds <= b) s.buckets[i]!++;
    });
    s.sum += seconds;
    s.count++;
  }
  render(): string[] {
    const out = [`# HELP ${this.name} ${this.help}`, `# TYPE ${this.name} histogram`];
    for (const [v, s] of this.series) {
      const l = `${this.label}="${esc(v)}"`;
      BUCKETS.forEach((b, i) => out.push(`${this.name}_bucket{${l},le="${b}"} ${s.buckets[i]}`));
      out.push(
        `${this.name}_bucket{${l},le="+Inf"} ${s.count}`,
        `${this.name}_sum{${l}} ${s.sum}`,
        `${this.name}_count{${l}} ${s.count}`,
      );
    }
    return out;
  }
}

/** The router's metrics. */
export class RouterMetrics {
  readonly requests = new Counter('router_requests_total', 'GraphQL requests by operation name', 'operation');
  readonly latency = new Histogram(
    'router_request_duration_seconds',
    'GraphQL request latency by operation name',
    'operation',
  );
  readonly errors = new Counter('router_errors_total', 'GraphQL errors in responses by code', 'code');
  readonly authFailures = new Counter('router_auth_failures_total', 'Refused credentials by reason', 'reason');
  private readonly gauges: { name: string; help: string; read: () => number }[] = [];

  /** A value read at scrape time (e.g. the membership cache hit ratio). */
  gauge(name: string, help: string, read: () => number): void {
    this.gauges.push({ name, help, read });
  }

  render(): string {
    const lines = [
      ...this.requests.render(),
      ...this.latency.render(),
      ...this.errors.render(),
      ...this.authFailures.render(),
    ];
    for (const g of this.gauges)
      lines.push(`# HELP ${g.name} ${g.help}`, `# TYPE ${g.name} gauge`, `${g.name} ${g.read()}`);
    return `${lines.join('\n')}\n`;
  }
}
