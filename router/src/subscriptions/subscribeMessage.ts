import {
  GraphQLError,
  getOperationAST,
  getVariableValues,
  parse,
  validate,
  type DocumentNode,
  type OperationDefinitionNode,
} from 'graphql';
import type { SubscribePayload } from 'graphql-ws';
import { ErrorCode, badUserInput } from '@lt/errors';
import type { RouterInternals } from '../createRouter';
import { variableField } from '../gateway/dataSource';
import { checkOperation, checkSource, unknownOperation } from '../plugins/limits';

/** A `subscribe` message that passed the checks: its document, operation and coerced variables. */
export interface CheckedSubscribe {
  document: DocumentNode;
  operation: OperationDefinitionNode;
  variables: Record<string, unknown>;
}

/**
 * The HTTP path's checks of a `subscribe` message, in its order and with its codes: nesting before
 * parsing, the token limit while parsing, validation against the API schema, the operation's name,
 * the operation limits, then the variables coerced to their declared types. Returns the errors to
 * answer with when it fails.
 */
export function checkSubscribeMessage(
  internals: Pick<RouterInternals, 'schema' | 'limits'>,
  payload: SubscribePayload,
): CheckedSubscribe | readonly GraphQLError[] {
  const opLimits = internals.limits;
  const source = typeof payload.query === 'string' ? payload.query : '';
  const tooDeep = checkSource(source, opLimits);
  if (tooDeep) return [forSocket(tooDeep)];
  let document: DocumentNode;
  try {
    document = parse(source, { maxTokens: opLimits.maxTokens });
  } catch (err) {
    const e = err instanceof GraphQLError ? err : new GraphQLError('Syntax error');
    return [forSocket(e, ErrorCode.GRAPHQL_PARSE_FAILED)];
  }
  const errors = validate(internals.schema, document);
  if (errors.length) return errors.map((e) => forSocket(e, ErrorCode.GRAPHQL_VALIDATION_FAILED));
  const operation = getOperationAST(document, payload.operationName);
  if (!operation) return [forSocket(unknownOperation(payload.operationName))];
  if (operation.operation !== 'subscription')
    return [badUserInput('Only subscriptions run over WebSocket; send queries and mutations over HTTP', 'query')];
  const overLimit = checkOperation(document, operation, opLimits);
  if (overLimit) return [forSocket(overLimit)];
  const coerced = getVariableValues(internals.schema, operation.variableDefinitions ?? [], payload.variables ?? {});
  if (coerced.errors)
    return coerced.errors.map((e) => {
      const field = variableField(e.message);
      return forSocket(e, ErrorCode.BAD_USER_INPUT, field ? { field } : {});
    });
  return { document, operation, variables: coerced.coerced };
}

/**
 * An error as sent over the socket: with `extensions.code` (`code` when it has none, as Apollo
 * Server adds on HTTP) and without the HTTP-only `http` extension.
 */
function forSocket(e: GraphQLError, code?: string, extra: Record<string, unknown> = {}): GraphQLError {
  const { http: _http, ...own } = e.extensions;
  const extensions = { ...own, ...extra };
  return new GraphQLError(e.message, {
    ...(e.source ? { source: e.source } : {}),
    ...(e.positions ? { positions: e.positions } : {}),
    extensions: { ...extensions, code: extensions['code'] ?? code ?? ErrorCode.BAD_REQUEST },
  });
}
