import type { ApolloServerPlugin } from '@apollo/server';
import { ErrorCode, isErrorCode } from '@lt/errors';
import type { Logger } from '@lt/logger';

/**
 * Logs every unexpected error (no code from the closed list) with the request id, before
 * `formatError` masks it for the client as INTERNAL_SERVER_ERROR (`maskError`, @lt/errors).
 */
export function logUnexpectedErrors<C extends { caller?: { requestId: string } }>(
  log: Logger,
  /** Transient dependency failures (answered SERVICE_UNAVAILABLE): logged as warnings. */
  transient: (error: unknown) => boolean = () => false,
  /** Values the database refused (answered BAD_USER_INPUT): logged as warnings, validation missed them. */
  badInput: (error: unknown) => boolean = () => false,
): ApolloServerPlugin<C> {
  return {
    async requestDidStart() {
      return {
        async didEncounterErrors(rc) {
          for (const e of rc.errors) {
            const code = e.extensions?.['code'];
            if (isErrorCode(code) && code !== ErrorCode.INTERNAL_SERVER_ERROR) continue;
            const err = e.originalError ?? e;
            if (transient(err)) {
              log.warn('dependency unavailable, answered SERVICE_UNAVAILABLE', {
                requestId: rc.contextValue?.caller?.requestId,
                path: e.path,
                err: {
                  name: (err as Error).name,
                  code: (err as { code?: unknown }).code,
                  message: (err as Error).message,
                },
              });
              continue;
            }
            if (badInput(err)) {
              log.warn('database refused an input value that validation let through, answered BAD_USER_INPUT', {
                requestId: rc.contextValue?.caller?.requestId,
                path: e.path,
                err: { name: (err as Error).name, code: (err as { code?: unknown }).code },
              });
              continue;
            }
            log.error('unexpected error', {
              requestId: rc.contextValue?.caller?.requestId,
              operation: rc.operationName,
              path: e.path,
              err,
            });
          }
        },
      };
    },
  };
}
