import { describe, expect, it } from 'vitest';
import { ConfigError, bool, int, loadConfig, optionalUrl, secret, str, url } from '../src/index';

const spec = {
  PORT: int({ default: 4000, min: 0, max: 65535, description: 'port' }),
  DATABASE_URL: url({ protocols: ['postgresql', 'postgres'], description: 'database' }),
  DEBUG: bool({ default: false, description: 'debug' }),
  KEY: secret({ minLength: 32, description: 'key' }),
  NAME: str({ optional: true, description: 'name' }),
};

describe('loadConfig', () => {
  it('parses values and applies defaults', () => {
    const c = loadConfig(spec, { DATABASE_URL: 'postgresql://x@h/db', KEY: 'k'.repeat(32), DEBUG: 'true' });
    expect(c).toEqual({
      PORT: 4000,
      DATABASE_URL: 'postgresql://x@h/db',
      DEBUG: true,
      KEY: 'k'.repeat(32),
      NAME: undefined,
    });
  });

  it('names every bad variable and never echoes a secret', () => {
    let err: unknown;
    try {
      loadConfig(spec, { PORT: '70000', DATABASE_URL: 'mysql://h/db', KEY: 'short-secret-value' });
    } catch (e) {
      err = e;
    }
    expect(err).toBeInstanceOf(ConfigError);
    const msg = (err as Error).message;
    expect((err as ConfigError).problems.map((p) => p.variable)).toEqual(['PORT', 'DATABASE_URL', 'KEY']);
    expect(msg).toMatch(/PORT: invalid value: 70000 is above 65535/);
    expect(msg).not.toContain('short-secret-value');
  });
});

describe('optionalUrl', () => {
  const s = {
    DB: optionalUrl('postgres', 'db'),
    CACHE: optionalUrl('redis', 'cache'),
    API: optionalUrl('http', 'api'),
  };

  it('is undefined when unset and accepts its kind, TLS variants included', () => {
    expect(loadConfig(s, {})).toEqual({ DB: undefined, CACHE: undefined, API: undefined });
    expect(loadConfig(s, { DB: 'postgres://h/db', CACHE: 'rediss://h:6380', API: 'https://h/x' })).toEqual({
      DB: 'postgres://h/db',
      CACHE: 'rediss://h:6380',
      API: 'https://h/x',
    });
  });

  it('refuses another kind of URL, naming the variable', () => {
    expect(() => loadConfig(s, { DB: 'redis://h', API: 'ftp://h' })).toThrow(
      /DB: invalid value: protocol must be one of postgresql, postgres\n\s+API: invalid value: protocol must be one of http, https/,
    );
  });
});
