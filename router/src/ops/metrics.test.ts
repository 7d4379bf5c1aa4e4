/** /metrics stays small and well-formed whatever operation names clients send. */
import { describe, expect, it } from 'vitest';
import { MAX_LABEL_LENGTH, RouterMetrics, labelValue } from './metrics';

describe('metric label values', () => {
  it('folds over-long and unprintable values into `other`; escapes the rest', () => {
    expect(labelValue('Dashboard')).toBe('Dashboard');
    expect(labelValue('x'.repeat(MAX_LABEL_LENGTH))).toBe('x'.repeat(MAX_LABEL_LENGTH));
    expect(labelValue('x'.repeat(MAX_LABEL_LENGTH + 1))).toBe('other');
    expect(labelValue('a\u0000b')).toBe('other');
    expect(labelValue('a\u2028b')).toBe('other');
    const m = new RouterMetrics();
    m.requests.inc('a"b\\c');
    expect(m.render()).toContain('router_requests_total{operation="a\\"b\\\\c"} 1');
  });

  it('40 names of 50 KB (one with a NUL) keep the exposition small', () => {
    const m = new RouterMetrics();
    for (let i = 0; i < 40; i++) {
      const name = `${i}`.padEnd(50_000, i === 7 ? '\u0000' : 'A');
      m.requests.inc(name);
      m.latency.observe(name, 0.01);
    }
    const text = m.render();
    expect(text.length).toBeLessThan(4_000);
    expect(text).not.toContain('\u0000');
    expect(text).toContain('router_requests_total{operation="other"} 40');
  });
});
