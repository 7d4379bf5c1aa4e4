import { describe, expect, it } from 'vitest';
import { createLogger } from '../src/index';

describe('logger', () => {
  it('writes JSON lines with bindings and redacts secrets by key and by shape', () => {
    const lines: string[] = [];
    const log = createLogger({
      write: (l) => lines.push(l),
      bindings: { service: 'test' },
      now: () => new Date(0),
    }).child({ requestId: 'r1' });
    log.info('login', {
      email: 'a@b.c',
      password: 'hunter22',
      headers: { authorization: 'Bearer abc.def.ghi' },
      note: 'token eyJhbGciOiJIUzI1NiJ9.eyJzdWIiOiIxIn0.c2ln leaked',
      sink: { secret: 'whsec_AAAA' },
    });
    const entry = JSON.parse(lines[0]!) as Record<string, unknown>;
    expect(entry).toMatchObject({
      level: 'info',
      service: 'test',
      requestId: 'r1',
      msg: 'login',
      email: 'a@b.c',
      password: '[REDACTED]',
    });
    expect(lines[0]).not.toContain('hunter22');
    expect(lines[0]).not.toContain('abc.def.ghi');
    expect(lines[0]).not.toContain('eyJhbGciOiJIUzI1NiJ9');
    expect(lines[0]).not.toContain('whsec_AAAA');
  });

  it('respects the level', () => {
    const lines: string[] = [];
    const log = createLogger({ level: 'warn', write: (l) => lines.push(l) });
    log.info('hidden');
    log.warn('shown');
    expect(lines).toHaveLength(1);
  });
});
