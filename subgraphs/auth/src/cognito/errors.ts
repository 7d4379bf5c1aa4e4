import { badUserInput, conflict, serviceUnavailable, unauthenticated } from '@lt/errors';
import { BrokenCircuitError, TaskCancelledError } from 'cockatiel';
import type { GraphQLError } from 'graphql';

/** Cognito failures that say nothing about the request: worth a retry and counted by the breaker. */
export function isInfrastructureError(err: unknown): boolean {
  if (err instanceof TaskCancelledError) return true;
  const e = err as { name?: string; $metadata?: { httpStatusCode?: number }; $fault?: string; code?: string };
  // cognito-local answers operations it lacks (e.g. AdminUserGlobalSignOut) with a 500 "Unsupported".
  if (e?.name === 'Unsupported') return false;
  if (e?.$fault === 'server') return true;
  const status = e?.$metadata?.httpStatusCode;
  if (typeof status === 'number' && status >= 500) return true;
  return [
    'TimeoutError',
    'AbortError',
    'TooManyRequestsException',
    'InternalErrorException',
    'ServiceUnavailable',
    'ThrottlingException',
    'ECONNREFUSED',
    'ECONNRESET',
    'ETIMEDOUT',
  ].includes(e?.name ?? e?.code ?? '')
    ? true
    : /ECONNREFUSED|ECONNRESET|ETIMEDOUT|socket hang up|fetch failed/i.test(String((err as Error)?.message ?? ''));
}

/** What a Cognito failure means for the client (classified once, here). */
export function toGraphQLError(err: unknown, context: 'auth' | 'signUp' | 'other'): GraphQLError {
  if (err instanceof BrokenCircuitError) return serviceUnavailable('Identity provider unavailable, retry later');
  if (isInfrastructureError(err)) return serviceUnavailable('Identity provider unavailable, retry later');
  const name = (err as { name?: string })?.name ?? '';
  switch (name) {
    case 'NotAuthorizedException':
    case 'UserNotFoundException':
    case 'UserNotConfirmedException':
    case 'PasswordResetRequiredException':
      // Never say whether the e-mail exists.
      return unauthenticated(context === 'auth' ? 'Incorrect email or password' : 'Authentication failed');
    case 'InvalidPasswordException':
      // cognito-local answers a wrong password with InvalidPasswordException (real Cognito: NotAuthorized).
      if (context === 'auth') return unauthenticated('Incorrect email or password');
      return badUserInput(passwordRule((err as Error).message), 'password');
    case 'UsernameExistsException':
    case 'AliasExistsException':
      return conflict('An account with this email already exists', 'email');
    case 'InvalidParameterException':
      return badUserInput('Invalid email or password format', context === 'signUp' ? 'email' : 'input');
    case 'TooManyRequestsException':
    case 'LimitExceededException':
      return serviceUnavailable('Identity provider is throttling, retry later');
    default:
      return serviceUnavailable('Identity provider error');
  }
}

/** Cognito's policy message, without anything user-specific. */
function passwordRule(message: string): string {
  const m = /Password (?:did not conform with policy: )?(.*)/i.exec(message ?? '');
  return `Password does not meet the policy: ${m?.[1]?.trim() || 'at least 8 characters with upper case, lower case and digits'}`;
}
