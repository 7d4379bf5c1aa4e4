import type { GraphQLFormattedError } from 'graphql';
import { ErrorCode, isErrorCode } from './codes';

export interface MaskErrorOptions {
  /** Called with the original error when it is masked, so it can be logged with the request id. */
  onMasked?: (formatted: GraphQLFormattedError, original: unknown) => void;
  /**
   * Recognises transient failures of a dependency (the database's pool or a timeout): those
   * answer SERVICE_UNAVAILABLE (retry shortly) instead of INTERNAL_SERVER_ERROR. Gets the thrown
   * error (unwrapped from its GraphQLError).
   */
  transient?: (error: unknown) => boolean;
  /**
   * Recognises a dependency refusing a value the client sent (Postgres: a NUL character, a date
   * out of range): BAD_USER_INPUT instead of INTERNAL_SERVER_ERROR. A backstop behind validation.
   */
  badInput?: (error: unknown) => boolean;
}

/** The thrown error behind a GraphQLError (resolvers' throws are wrapped once or twice). */
function thrown(original: unknown): unknown {
  let e = original;
  for (let i = 0; i < 3 && e && typeof e === 'object' && 'originalError' in e && e.originalError; i++)
    e = (e as { originalError: unknown }).originalError;
  return e;
}

/**
 * Apollo Server `formatError`: errors carrying a code from the closed list pass through; anything
 * else becomes `INTERNAL_SERVER_ERROR` with a generic message and no stack, path kept — or
 * `SERVICE_UNAVAILABLE` when `transient` recognises it (overload, not a bug).
 */
export function maskError(
  formatted: GraphQLFormattedError,
  original: unknown,
  options: MaskErrorOptions = {},
): GraphQLFormattedError {
  const code = formatted.extensions?.['code'];
  if (isErrorCode(code) && code !== ErrorCode.INTERNAL_SERVER_ERROR) {
    // The gateway names the subgraph that answered (`serviceName`): internal topology, dropped.
    const { stacktrace: _drop, serviceName: _service, ...extensions } = formatted.extensions ?? {};
    return { ...formatted, extensions };
  }
  if (options.transient?.(thrown(original)))
    return {
      message: 'Service temporarily unavailable; retry shortly',
      ...(formatted.path ? { path: formatted.path } : {}),
      ...(formatted.locations ? { locations: formatted.locations } : {}),
      extensions: { code: ErrorCode.SERVICE_UNAVAILABLE },
    };
  if (options.badInput?.(thrown(original)))
    return {
      message: 'Invalid input value',
      ...(formatted.path ? { path: formatted.path } : {}),
      ...(formatted.locations ? { locations: formatted.locations } : {}),
      extensions: { code: ErrorCode.BAD_USER_INPUT },
    };
  options.onMasked?.(formatted, original);
  return {
    message: 'Internal server error',
    ...(formatted.path ? { path: formatted.path } : {}),
    ...(formatted.locations ? { locations: formatted.locations } : {}),
    extensions: { code: ErrorCode.INTERNAL_SERVER_ERROR },
  };
}
