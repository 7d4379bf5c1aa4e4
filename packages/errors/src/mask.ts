import type { GraphQLFormattedError } from 'graphql';
import { ErrorCode, isErrorCode } from './codes';

export interface MaskErrorOptions {
  /** Called with the original error when it is masked, so it can be logged with the request id. */
  onMasked?: (formatted: GraphQLFormattedError, original: unknown) => void;
}

/**
 * Apollo Server `formatError`: errors carrying a code from the closed list pass through; anything
 * else becomes `INTERNAL_SERVER_ERROR` with a generic message and no stack, path kept.
 */
export function maskError(
  formatted: GraphQLFormattedError,
  original: unknown,
  options: MaskErrorOptions = {},
): GraphQLFormattedError {
  const code = formatted.extensions?.['code'];
  if (isErrorCode(code) && code !== ErrorCode.INTERNAL_SERVER_ERROR) {
    const { stacktrace: _drop, ...extensions } = formatted.extensions ?? {};
    return { ...formatted, extensions };
  }
  options.onMasked?.(formatted, original);
  return {
    message: 'Internal server error',
    ...(formatted.path ? { path: formatted.path } : {}),
    ...(formatted.locations ? { locations: formatted.locations } : {}),
    extensions: { code: ErrorCode.INTERNAL_SERVER_ERROR },
  };
}
