import { GraphQLError } from 'graphql';
import { ErrorCode, rateLimited } from '@lt/errors';
import type { Logger } from '@lt/logger';
import type { AuthServices } from '../deps';

/** Counts one attempt under `key`; RATE_LIMITED once `max` attempts are in the current window. */
export async function limitAttempt(s: AuthServices, key: string, max: number): Promise<void> {
  const r = await s.limiter.hit(key, max, s.loginLimits.windowSeconds);
  if (!r.allowed) throw rateLimited(r.retryAfterSeconds);
}

/**
 * Runs an identity-provider call whose attempt was counted under `keys`: when it fails for a
 * reason that is not the caller's (Cognito down or throttling: anything but UNAUTHENTICATED),
 * the attempt is taken back, so an outage does not lock users out once Cognito returns.
 */
export async function counted<T>(s: AuthServices, keys: string[], log: Logger, call: () => Promise<T>): Promise<T> {
  try {
    return await call();
  } catch (err) {
    const code = err instanceof GraphQLError ? err.extensions['code'] : undefined;
    if (code !== ErrorCode.UNAUTHENTICATED && code !== ErrorCode.BAD_USER_INPUT)
      await Promise.all(keys.map((k) => s.limiter.refund(k))).catch((e: unknown) =>
        log.warn('rate limit refund failed', { err: e }),
      );
    throw err;
  }
}
