/** /metrics stays small and well-formed whatever operation names clients send. */
import { describe, expect, it } from 'vitest';
import { MAX_LABEL_LENGTH, RouterMetrics, labelValue } from './metrics';

describe('metric label values', () => {
  it('folds over-long and unprintable values into `other`; escapes the rest', async () => {
    expect(labelValue('Dashboard')).toBe('Dashboard');
    expect(labelValue('x'.repeat(MAX_LABEL_LENGTH))).toBe('x'.repeat(MAX_LABEL_LENGTH));
    expect(labelValue('x'.repeat(MAX_LABEL_LENGTH + 1))).toBe('other');
    expect(labelValue('a\u0000b')).toBe('other');
    expect(labelValue('a\u2028b')).toBe('other');
    const m = new RouterMetrics();
    m.requests.inc('a"b\\c');
    expect(await m.render()).toContain('router_requests_total{operation="a\\"b\\\\c"} 1');
  });

  it('40 names of 50 KB (one with a NUL) keep the exposition small', async () => {
    const m = new RouterMetrics();
    for (let i = 0; i < 40; i++) {
      const name = `${i}`.padEnd(50_000, i === 7 ? '\u0000' : 'A');
      m.requests.inc(name);
      m.latency.observe(name, 0.01);
    }
    const text = await m.render();
    expect(text.length).toBeLessThan(4_000);
    expect(text).not.toContain('\u0000');
    expect(text).toContain('router_requests_total{operation="other"} 40');
  });

  it('keeps 200 distinct values per metric; later new ones count as `other`, known ones keep counting', async () => {
    const m = new RouterMetrics();
    for (let i = 0; i < 250; i++) m.requests.inc(`Op${i}`);
    m.requests.inc('Op0');
    const text = await m.render();
    expect(text.match(/^router_requests_total\{/gm)).toHaveLength(201);
    expect(text).toContain('router_requests_total{operation="Op0"} 2');
    expect(text).toContain('router_requests_total{operation="Op199"} 1');
    expect(text).not.toContain('Op200');
    expect(text).toContain('router_requests_total{operation="other"} 50');
  });

  it('renders the process metrics (event-loop lag, GC, heap, handles) after ours when asked', async () => {
    const m = new RouterMetrics({ processMetrics: true });
    m.gauge('router_test_gauge', 'read at scrape time', () => 7);
    const text = await m.render();
    expect(text).toContain('\nrouter_test_gauge 7\n');
    for (const name of [
      'nodejs_eventloop_lag_seconds',
      'nodejs_gc_duration_seconds',
      'nodejs_heap_size_used_bytes',
      'nodejs_active_handles_total',
      'process_resident_memory_bytes',
    ])
      expect(text).toMatch(new RegExp(`^# TYPE ${name} `, 'm'));
    expect(await new RouterMetrics().render()).not.toContain('nodejs_');
  });
});
