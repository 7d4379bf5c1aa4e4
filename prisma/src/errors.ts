/**
 * Classifies database failures once, here, so callers never parse driver messages.
 * Prisma with a driver adapter reports unique violations as P2002 with the constraint's fields
 * under `meta.target` or `meta.driverAdapterError.cause.constraint.fields`.
 */
export function isUniqueViolation(err: unknown): boolean {
  if (!err || typeof err !== 'object') return false;
  const e = err as { code?: unknown; cause?: unknown };
  if (e.code === 'P2002' || e.code === '23505') return true;
  return e.cause ? isUniqueViolation(e.cause) : false;
}

/** The columns of the violated unique constraint, when Prisma tells them. */
export function uniqueViolationTarget(err: unknown): string[] {
  const meta = (err as { meta?: Record<string, unknown> } | null)?.meta;
  const target = meta?.['target'];
  if (Array.isArray(target)) return target.map(String);
  if (typeof target === 'string') return [target];
  const fields = (meta?.['driverAdapterError'] as { cause?: { constraint?: { fields?: unknown } } } | undefined)?.cause
    ?.constraint?.fields;
  if (Array.isArray(fields)) return fields.map((f) => String(f).replace(/"/g, ''));
  return [];
}

/** Prisma codes of failures that say "not now", not "wrong": unreachable, pool or transaction timeouts, conflicts. */
const TRANSIENT_PRISMA = new Set([
  'P1001', // can't reach the database server
  'P1002', // reached but timed out
  'P1008', // operation timed out (socket timeout)
  'P1017', // server closed the connection
  'P2024', // timed out fetching a connection from the pool
  'P2028', // transaction API: unable to start in time (pool wait), or expired under load
  'P2034', // write conflict or deadlock: retry
  'P2037', // too many connections
]);

/** SQLSTATE classes/codes that are transient: connection exceptions, cancels, shutdowns, conflicts. */
const TRANSIENT_SQLSTATE = /^(08...|57014|57P0[123]|53300|40001|40P01)$/;

const CONNECTION_LOST =
  /timeout exceeded when trying to connect|connection timeout|Connection terminated|terminating connection|connection error and is not queryable|Client was closed and is not queryable|server closed the connection unexpectedly/i;

const TRANSIENT_NODE = new Set(['ECONNREFUSED', 'ECONNRESET', 'ETIMEDOUT', 'EPIPE']);

/**
 * Whether a database failure is transient (the database or the pool is unavailable or
 * overloaded, a timeout, a serialization conflict): callers should retry shortly, so the API
 * answers SERVICE_UNAVAILABLE instead of masking it as an internal error (classified once, here,
 * at the adapter). Walks `cause` chains (driver adapter errors nest the pg error).
 */
export function isTransientDatabaseError(err: unknown, depth = 0): boolean {
  if (!err || typeof err !== 'object' || depth > 5) return false;
  const e = err as { code?: unknown; cause?: unknown; message?: unknown; meta?: { driverAdapterError?: unknown } };
  if (typeof e.code === 'string') {
    if (TRANSIENT_PRISMA.has(e.code) || TRANSIENT_SQLSTATE.test(e.code) || TRANSIENT_NODE.has(e.code)) return true;
  }
  // node-postgres: waiting for a pooled connection past connectionTimeoutMillis; the server or the
  // network dropped the connection (a restart, a failover, pg_terminate_backend) mid-query.
  if (typeof e.message === 'string' && CONNECTION_LOST.test(e.message)) return true;
  const kind = (e.cause as { kind?: unknown } | undefined)?.kind;
  if (kind === 'DatabaseNotReachable' || kind === 'SocketTimeout' || kind === 'ConnectionClosed') return true;
  if (kind === 'TooManyConnections' || kind === 'TransactionWriteConflict') return true;
  return (
    isTransientDatabaseError(e.cause, depth + 1) || isTransientDatabaseError(e.meta?.driverAdapterError, depth + 1)
  );
}

/**
 * SQLSTATEs of values Postgres refuses: a NUL character in text (22021), a date-time out of its
 * range or malformed (22008, 22007), text that is no valid value of the column's type (22P02,
 * e.g. a non-UUID id).
 */
const INVALID_INPUT_SQLSTATE = new Set(['22021', '22008', '22007', '22P02']);

/**
 * Whether the database refused a value the client sent. Input validation refuses these first,
 * naming the field; this is the backstop that answers BAD_USER_INPUT instead of an internal error
 * if a value slips through. Walks `cause` chains like {@link isTransientDatabaseError}.
 */
export function isInvalidInputDatabaseError(err: unknown, depth = 0): boolean {
  if (!err || typeof err !== 'object' || depth > 5) return false;
  const e = err as { code?: unknown; kind?: unknown; cause?: unknown; meta?: { driverAdapterError?: unknown } };
  if (typeof e.code === 'string' && INVALID_INPUT_SQLSTATE.has(e.code)) return true;
  if (e.kind === 'InvalidInputValue') return true;
  return (
    isInvalidInputDatabaseError(e.cause, depth + 1) ||
    isInvalidInputDatabaseError(e.meta?.driverAdapterError, depth + 1)
  );
}
