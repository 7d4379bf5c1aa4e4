/** The wire server's pure parts: framing, ReadyForQuery status, and the role guard's text filter. */
import { describe, expect, it } from 'vitest';
import {
  errorResponse,
  firstError,
  lastReadyStatus,
  queryMessage,
  readyForQuery,
  splitMessages,
  sqlOf,
  withSql,
} from '../src/postgres/protocol';
import { isRoleChange } from '../src/postgres/wireServer';

describe('framing', () => {
  it('splits complete messages and keeps a partial one for later', () => {
    const q1 = queryMessage('SELECT 1');
    const q2 = queryMessage('SELECT 2');
    const { messages, rest } = splitMessages(Buffer.concat([q1, q2.subarray(0, 7)]));
    expect(messages.map((m) => sqlOf(m)?.sql)).toEqual(['SELECT 1']);
    expect(rest).toEqual(q2.subarray(0, 7));
  });

  it('reads the last ReadyForQuery status and the first error message', () => {
    const out = Buffer.concat([readyForQuery('T'), errorResponse('ERROR', '42501', 'nope'), readyForQuery('E')]);
    expect(lastReadyStatus(out)).toBe('E');
    expect(firstError(out)).toBe('nope');
    expect(lastReadyStatus(Buffer.alloc(0))).toBeUndefined();
  });

  it("replaces a Parse message's SQL and keeps its name and parameter types", () => {
    const body = Buffer.concat([
      Buffer.from('stmt\0SELECT $1\0', 'utf8'),
      Buffer.from([0, 1, 0, 0, 0, 25]), // one parameter, type oid 25 (text)
    ]);
    const head = Buffer.alloc(5);
    head.write('P', 0, 'latin1');
    head.writeInt32BE(body.length + 4, 1);
    const parse = Buffer.concat([head, body]);
    const span = sqlOf(parse)!;
    expect(span.sql).toBe('SELECT $1');
    const replaced = withSql(parse, span, 'SELECT 42');
    expect(sqlOf(replaced)!.sql).toBe('SELECT 42');
    expect(replaced.subarray(5, 10).toString('utf8')).toBe('stmt\0');
    expect(replaced.subarray(-6)).toEqual(Buffer.from([0, 1, 0, 0, 0, 25]));
    expect(replaced.readInt32BE(1)).toBe(replaced.length - 1);
  });
});

describe('role guard', () => {
  it.each([
    'RESET ROLE',
    'set role postgres',
    'SET LOCAL ROLE lt_owner',
    'SET SESSION ROLE lt_owner',
    'SET "role" = postgres',
    'set/**/role postgres',
    'SET /* a /* nested */ comment */ ROLE postgres',
    "SELECT '--'; SET ROLE postgres",
    'SET SESSION AUTHORIZATION postgres',
    'RESET SESSION AUTHORIZATION',
    'SET session_authorization TO DEFAULT',
    'RESET ALL',
    'DISCARD ALL',
    "SELECT set_config('role', 'postgres', false)",
    'SELECT set_config($1, $2, false)',
    "SELECT pg_catalog.set_config ( 'session_authorization', 'postgres', false)",
    "CREATE FUNCTION f() RETURNS int LANGUAGE sql SET role = 'postgres' AS 'SELECT 1'",
  ])('refuses %s', (sql) => {
    expect(isRoleChange(sql)).toBe(true);
  });

  it.each([
    "SELECT set_config('app.tenant_id', $1, true)",
    "SELECT set_config('app.platform', 'on', true)",
    'INSERT INTO "users" ("id", "role") VALUES ($1, $2::"Role")',
    'SELECT u.role FROM users u WHERE u.role = $1',
    'SET search_path = public',
    "SET LOCAL statement_timeout = '5s'",
    'BEGIN; SELECT 1; COMMIT',
  ])('allows %s', (sql) => {
    expect(isRoleChange(sql)).toBe(false);
  });
});
