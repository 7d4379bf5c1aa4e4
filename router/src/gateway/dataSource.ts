import { RemoteGraphQLDataSource, type GraphQLDataSourceProcessOptions } from '@apollo/gateway';
import { GraphQLError } from 'graphql';
import { CONTEXT_HEADER, REQUEST_ID_HEADER, type Caller } from '@lt/context';
import { ErrorCode, isErrorCode } from '@lt/errors';
import { createContextSigner, type ContextSigner } from './contextSigner';
import type { SubgraphFetcher } from './httpFetcher';
import { MERGE_HEADER } from './merge';
import { dedupeRepresentations, expandEntities } from './representations';

/** Context the router's Apollo Server builds per request. */
export interface RouterContext {
  caller: Caller;
}

/**
 * A data source that forwards nothing from the client but the router-signed caller and the
 * request id. Client headers never reach subgraphs (the gateway sends only what we set here).
 */
export class SignedContextDataSource extends RemoteGraphQLDataSource<RouterContext> {
  private readonly signer: ContextSigner;

  constructor(
    url: string,
    /** The context secret, or the router's signer (one signature per caller, shared by every subgraph). */
    secret: string | ContextSigner,
    /** Kept-alive HTTP with a deadline per call (httpFetcher.ts), shared by every subgraph. */
    fetcher: SubgraphFetcher,
  ) {
    super({ url, fetcher: fetcher as never });
    this.signer = typeof secret === 'string' ? createContextSigner({ secret }) : secret;
  }

  /** Each distinct entity representation is sent once; answers are mapped back (representations.ts). */
  override async process(options: GraphQLDataSourceProcessOptions<RouterContext>) {
    const representations = options.request.variables?.['representations'];
    const d = Array.isArray(representations) ? dedupeRepresentations(representations) : null;
    if (!d) return super.process(options);
    options.request.variables = { ...options.request.variables, representations: d.unique };
    return expandEntities(await super.process(options), d);
  }

  override willSendRequest(
    options: Parameters<NonNullable<RemoteGraphQLDataSource<RouterContext>['willSendRequest']>>[0],
  ): void {
    const { request, context } = options;
    const headers = request.http?.headers;
    if (!headers || !context?.caller) return;
    headers.set(CONTEXT_HEADER, this.signer.sign(context.caller));
    headers.set(REQUEST_ID_HEADER, context.caller.requestId);
    // Queries of a query operation may share an identical in-flight call (merge.ts); nothing of a mutation does.
    if (
      'incomingRequestContext' in options &&
      options.incomingRequestContext.operation?.operation === 'query' &&
      /^\s*(query\b|\{)/.test(request.query ?? '')
    )
      headers.set(MERGE_HEADER, '1');
  }

  /**
   * A subgraph that refuses a request with a non-2xx status (Apollo Server answers 400 when a
   * variable does not coerce, e.g. an invalid `DateTime`) still says why in its body. The gateway
   * would turn that into a code-less "400: Bad Request" (masked as INTERNAL_SERVER_ERROR); the
   * subgraph's own error is passed on instead when it carries a code from the closed list.
   */
  override async errorFromResponse(response: Parameters<RemoteGraphQLDataSource['errorFromResponse']>[0]) {
    const generic = await super.errorFromResponse(response);
    const body = (generic.extensions['response'] as { body?: unknown } | undefined)?.body;
    const first = subgraphError(body);
    return first ?? generic;
  }
}

/** The first error of a subgraph's error body whose code a client may see, or null. */
export function subgraphError(body: unknown): GraphQLError | null {
  const errors = (body as { errors?: unknown } | null)?.errors;
  if (!Array.isArray(errors)) return null;
  for (const e of errors as { message?: unknown; extensions?: Record<string, unknown> }[]) {
    const code = e?.extensions?.['code'];
    if (!isErrorCode(code) || code === ErrorCode.INTERNAL_SERVER_ERROR) continue;
    const message = typeof e.message === 'string' ? e.message : String(code);
    const extensions: Record<string, unknown> = { code };
    for (const k of ['field', 'retryAfter', 'limit', 'max'])
      if (e.extensions?.[k] !== undefined) extensions[k] = e.extensions[k];
    if (code === ErrorCode.BAD_USER_INPUT && typeof extensions['field'] !== 'string') {
      const field = variableField(message);
      if (field) extensions['field'] = field;
    }
    return new GraphQLError(message, { extensions });
  }
  return null;
}

/** A BAD_USER_INPUT about a variable without `extensions.field` gets the variable's path as its field. */
export function withVariableField<E extends { message: string; extensions?: Record<string, unknown> }>(e: E): E {
  if (e.extensions?.['code'] !== ErrorCode.BAD_USER_INPUT || typeof e.extensions['field'] === 'string') return e;
  const field = variableField(e.message);
  return field ? { ...e, extensions: { ...e.extensions, field } } : e;
}

/**
 * The input path graphql-js names in a variable coercion error: `Variable "$t" got invalid value
 * "now"; …` → `t`; `Variable "$input" got invalid value … at "input.recordedAt"; …` →
 * `input.recordedAt`.
 */
export function variableField(message: string): string | null {
  const head = message.slice(0, 4_000);
  const m = /^Variable "\$([_A-Za-z][_0-9A-Za-z]*)" got invalid value .*? at "([^"]{1,200})"/s.exec(head);
  if (m) return m[2]!;
  return /^Variable "\$([_A-Za-z][_0-9A-Za-z]*)"/.exec(head)?.[1] ?? null;
}
