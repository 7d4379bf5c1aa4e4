import { GraphQLError } from 'graphql';
import { describe, expect, it } from 'vitest';
import { badUserInput, maskError, notFound, rateLimited } from '../src/index';

describe('error factories', () => {
  it('name the field and carry the code', () => {
    expect(badUserInput('latitude must be within [-90, 90]', 'locations[3].latitude', { index: 3 }).extensions).toEqual(
      {
        code: 'BAD_USER_INPUT',
        field: 'locations[3].latitude',
        index: 3,
      },
    );
    expect(notFound('Session').extensions['code']).toBe('NOT_FOUND');
    expect(rateLimited(30).extensions).toEqual({ code: 'RATE_LIMITED', retryAfter: 30 });
  });
});

describe('maskError', () => {
  it('passes known codes through without stack traces', () => {
    const e = notFound('Tenant');
    const out = maskError({ message: e.message, extensions: { ...e.extensions, stacktrace: ['x'] } }, e);
    expect(out).toEqual({ message: 'Tenant not found', extensions: { code: 'NOT_FOUND' } });
    // Through the gateway: the answering subgraph's name is not the client's business.
    const viaGateway = maskError({ message: e.message, extensions: { ...e.extensions, serviceName: 'tenant' } }, e);
    expect(viaGateway.extensions).toEqual({ code: 'NOT_FOUND' });
  });

  it('masks unknown errors and reports them for logging', () => {
    const seen: unknown[] = [];
    const original = new GraphQLError('relation "users" does not exist at 10.0.0.3');
    const out = maskError({ message: original.message, path: ['me'], extensions: { code: 'SOMETHING' } }, original, {
      onMasked: (_f, err) => seen.push(err),
    });
    expect(out).toEqual({
      message: 'Internal server error',
      path: ['me'],
      extensions: { code: 'INTERNAL_SERVER_ERROR' },
    });
    expect(seen).toEqual([original]);
  });

  it('answers SERVICE_UNAVAILABLE for transient dependency failures, without their message', () => {
    const seen: unknown[] = [];
    const poolTimeout = Object.assign(new Error('Unable to start a transaction in the given time. (db 10.0.0.3)'), {
      code: 'P2028',
    });
    const original = new GraphQLError(poolTimeout.message, { originalError: poolTimeout });
    const transient = (e: unknown) => (e as { code?: string }).code === 'P2028';
    const out = maskError({ message: original.message, path: ['recordLocation'] }, original, {
      onMasked: (_f, err) => seen.push(err),
      transient,
    });
    expect(out).toEqual({
      message: 'Service temporarily unavailable; retry shortly',
      path: ['recordLocation'],
      extensions: { code: 'SERVICE_UNAVAILABLE' },
    });
    expect(seen).toEqual([]);
    // Anything else is still masked as an internal error.
    const other = new GraphQLError('boom', { originalError: new Error('boom') });
    expect(maskError({ message: 'boom' }, other, { transient }).extensions).toEqual({ code: 'INTERNAL_SERVER_ERROR' });
  });
});
