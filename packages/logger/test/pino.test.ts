import { describe, expect, it } from 'vitest';
import { createLogger, logFormat } from '../src/index';

describe('logger on pino', () => {
  it('writes one JSON object per line: level name, ISO time, bindings, fields, msg; nothing else; a child binding replaces the parent one', () => {
    const lines: string[] = [];
    const log = createLogger({ write: (l) => lines.push(l), bindings: { service: 'svc' }, now: () => new Date(0) });
    log.child({ requestId: 'r1' }).warn('slow', { ms: 12 });
    log.child({ service: 'auth' }).info('x');
    expect(lines).toHaveLength(2);
    expect(lines[1]!.match(/"service"/g)).toHaveLength(1);
    expect(JSON.parse(lines[1]!)).toMatchObject({ service: 'auth' });
    expect(JSON.parse(lines[0]!)).toEqual({
      level: 'warn',
      time: '1970-01-01T00:00:00.000Z',
      service: 'svc',
      requestId: 'r1',
      ms: 12,
      msg: 'slow',
    });
  });

  it('redacts bindings, messages and errors the same way as fields', () => {
    const lines: string[] = [];
    const log = createLogger({ write: (l) => lines.push(l), bindings: { apiKey: 'k-123' } });
    const err = new Error('refused Bearer abc.def.ghi');
    log.child({ token: 'tok-456' }).error('login with whsec_BBBB failed', { err });
    const entry = JSON.parse(lines[0]!) as Record<string, unknown>;
    expect(entry).toMatchObject({ apiKey: '[REDACTED]', token: '[REDACTED]', msg: 'login with [REDACTED] failed' });
    expect(entry['err']).toMatchObject({ name: 'Error', message: 'refused [REDACTED]' });
    expect(lines[0]).not.toMatch(/k-123|tok-456|whsec_BBBB|abc\.def\.ghi/);
  });

  it('pretty format: one readable line with level, service and message, still redacted', () => {
    const lines: string[] = [];
    const log = createLogger({ format: 'pretty', write: (l) => lines.push(l), bindings: { service: 'router' } });
    log.info('ready', { router: 'http://127.0.0.1:4000/graphql', password: 'hunter22' });
    expect(lines).toHaveLength(1);
    // eslint-disable-next-line no-control-regex
    const plain = lines[0]!.replace(/\u001b\[[0-9;]*m/g, '');
    expect(plain).toMatch(
      /^\[\d\d:\d\d:\d\d\.\d{3}\] INFO: router: ready \{.*"router":"http:\/\/127\.0\.0\.1:4000\/graphql"/,
    );
    expect(plain).not.toContain('hunter22');
    expect(() => JSON.parse(plain)).toThrow();
  });

  it('LOG_FORMAT auto: readable on a terminal outside production, JSON otherwise', () => {
    expect(logFormat('auto', false, true)).toBe('pretty');
    expect(logFormat('auto', true, true)).toBe('json');
    expect(logFormat('auto', false, false)).toBe('json');
    expect(logFormat('json', false, true)).toBe('json');
    expect(logFormat('pretty', true, false)).toBe('pretty');
  });

  it('silent writes nothing; debug is off by default', () => {
    const lines: string[] = [];
    createLogger({ level: 'silent', write: (l) => lines.push(l) }).error('x');
    createLogger({ write: (l) => lines.push(l) }).debug('y');
    expect(lines).toEqual([]);
  });
});
