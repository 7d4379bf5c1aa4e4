/** A subgraph's refusal with a non-2xx status keeps its code (not "400: Bad Request" → masked). */
import { describe, expect, it } from 'vitest';
import { maskError } from '@lt/errors';
import { SignedContextDataSource, subgraphError, variableField } from './dataSource';

describe('subgraph error bodies', () => {
  it('names the variable path of a coercion error as the field', () => {
    expect(variableField('Variable "$t" got invalid value "now"; DateTime must be ISO-8601')).toBe('t');
    expect(variableField('Variable "$locs" got invalid value "x" at "locs[0].recordedAt"; Invalid DateTime: x')).toBe(
      'locs[0].recordedAt',
    );
    expect(variableField('Something else')).toBeNull();
  });

  it('keeps the first error with a code from the closed list, never INTERNAL_SERVER_ERROR or extras', () => {
    const e = subgraphError({
      errors: [
        { message: 'boom', extensions: { code: 'INTERNAL_SERVER_ERROR' } },
        {
          message: 'Variable "$t" got invalid value 5; DateTime must be a string',
          extensions: { code: 'BAD_USER_INPUT', stacktrace: ['/abs/path.ts:1'], serviceName: 'location' },
        },
      ],
    });
    expect(e?.message).toMatch(/^Variable "\$t"/);
    expect(e?.extensions).toEqual({ code: 'BAD_USER_INPUT', field: 't' });
    expect(subgraphError({ errors: [{ message: 'x', extensions: { code: 'MADE_UP' } }] })).toBeNull();
    expect(subgraphError('<html>')).toBeNull();
  });

  it('errorFromResponse answers the subgraph error, which maskError lets through', async () => {
    const ds = new SignedContextDataSource('http://127.0.0.1:1/graphql', 's'.repeat(32), (() => {
      throw new Error('unused');
    }) as never);
    const body = {
      errors: [{ message: 'Variable "$t" got invalid value "now"; bad', extensions: { code: 'BAD_USER_INPUT' } }],
    };
    const res = new Response(JSON.stringify(body), { status: 400, headers: { 'content-type': 'application/json' } });
    const err = await ds.errorFromResponse(res as never);
    expect(maskError({ message: err.message, extensions: err.extensions }, err).extensions).toEqual({
      code: 'BAD_USER_INPUT',
      field: 't',
    });
    const html = new Response('<html>oops</html>', { status: 502, headers: { 'content-type': 'text/html' } });
    // Nothing to keep in an HTML body: the gateway's own error, as before.
    expect((await ds.errorFromResponse(html as never)).message).toMatch(/^502: /);
  });
});
