/**
 * The one closed list of client-visible error codes (listed in the README, "The API") and the
 * factories that make them.
 * Anything that is not one of these is unexpected and gets masked by {@link maskError}.
 */
export { ErrorCode, isErrorCode } from './codes';
export {
  unauthenticated,
  forbidden,
  notFound,
  badUserInput,
  conflict,
  rateLimited,
  serviceUnavailable,
} from './factories';
export { maskError, type MaskErrorOptions } from './mask';
