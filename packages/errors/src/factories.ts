import { GraphQLError } from 'graphql';
import { ErrorCode } from './codes';

function make(code: ErrorCode, message: string, extensions: Record<string, unknown> = {}): GraphQLError {
  return new GraphQLError(message, { extensions: { ...extensions, code } });
}

/** Missing, invalid, expired or revoked credentials. Never says which. */
export const unauthenticated = (message = 'Authentication required'): GraphQLError =>
  make(ErrorCode.UNAUTHENTICATED, message);

/** Authenticated but not allowed. Use {@link notFound} instead when the target belongs to another tenant. */
export const forbidden = (message = 'Not allowed'): GraphQLError => make(ErrorCode.FORBIDDEN, message);

/** The thing does not exist in the caller's scope (also for other tenants' ids: existence does not leak). */
export const notFound = (what = 'Resource', field?: string): GraphQLError =>
  make(ErrorCode.NOT_FOUND, `${what} not found`, field ? { field } : {});

/** Bad input; `field` names the offending input path (e.g. `locations[3].latitude`). */
export const badUserInput = (message: string, field: string, extra: Record<string, unknown> = {}): GraphQLError =>
  make(ErrorCode.BAD_USER_INPUT, message, { field, ...extra });

/** A uniqueness or state conflict (duplicate slug, recording into an ended session...). */
export const conflict = (message: string, field?: string): GraphQLError =>
  make(ErrorCode.CONFLICT, message, field ? { field } : {});

/** Too many attempts; `retryAfterSeconds` tells the caller when to come back. */
export const rateLimited = (retryAfterSeconds: number): GraphQLError =>
  make(ErrorCode.RATE_LIMITED, `Too many requests, retry after ${retryAfterSeconds}s`, {
    retryAfter: retryAfterSeconds,
  });

/** A dependency is down or its circuit breaker is open; safe to retry later. */
export const serviceUnavailable = (message = 'Service temporarily unavailable'): GraphQLError =>
  make(ErrorCode.SERVICE_UNAVAILABLE, message);
