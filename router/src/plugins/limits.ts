import type { Duplex } from 'node:stream';
import type { ApolloServerPlugin } from '@apollo/server';
import type { ErrorRequestHandler, RequestHandler } from 'express';
import {
  GraphQLError,
  Kind,
  type DocumentNode,
  type FragmentDefinitionNode,
  type OperationDefinitionNode,
  type SelectionSetNode,
} from 'graphql';
import { ErrorCode } from '@lt/errors';
import type { RouterContext } from '../gateway/dataSource';

/** Operation limits (documented defaults; a request over any is refused before planning). */
export interface OperationLimits {
  /** Max nesting of selections. Default 12. */
  maxDepth?: number;
  /** Max aliased fields in the operation, counted once per use of their fragment. Default 30. */
  maxAliases?: number;
  /** Max fields at the root of the operation. Default 20. */
  maxRootFields?: number;
  /** Max lexical tokens of a document (graphql-js `parse` aborts past it). Default 5_000. */
  maxTokens?: number;
  /**
   * Max nesting of `{`, `[` and `(` in the document text, checked before parsing: inline
   * fragments and input objects nest without adding to the selection depth. Default 64.
   */
  maxNesting?: number;
  /**
   * Max fields once every fragment spread is expanded (what the query planner and the response
   * see: fragments spread twice per level double it per level). Default 2_000.
   */
  maxExpandedFields?: number;
}

export const DEFAULT_LIMITS: Required<OperationLimits> = {
  maxDepth: 12,
  maxAliases: 30,
  maxRootFields: 20,
  maxTokens: 5_000,
  maxNesting: 64,
  maxExpandedFields: 2_000,
};

/** The limits with their defaults filled in. */
export function resolveLimits(limits: OperationLimits = {}): Required<OperationLimits> {
  const out = { ...DEFAULT_LIMITS };
  for (const k of Object.keys(out) as (keyof OperationLimits)[]) if (limits[k] !== undefined) out[k] = limits[k];
  return out;
}

export interface OperationShape {
  depth: number;
  /** Aliased fields, each counted once per expanded use of its fragment (capped at {@link COUNT_CAP}). */
  aliases: number;
  rootFields: number;
  /** Fields once fragments are expanded (capped at {@link COUNT_CAP}). */
  expandedFields: number;
  /** Selection sets walked to measure (≤ one per selection set of the document: linear work). */
  visits: number;
}

/** Expanded counts stop growing here (a 30-level doubling is 2^30 fields: no need to be exact). */
export const COUNT_CAP = 1_000_000_000;

/**
 * Measures an operation in time linear in the document: each fragment's depth, alias count and
 * expanded field count is computed once (memoised) and reused at every spread, so a fragment
 * spread twice per level over 21 levels is 21 walks, not 2^21. Aliases and fields are counted
 * per expanded use (a fragment with one alias, spread 4 times, counts 4), multiplied from the
 * memo and capped at {@link COUNT_CAP}. Root fields are distinct response keys at the root, each
 * fragment visited once. A fragment already on the current path (a cycle, refused by validation
 * anyway) counts nothing.
 */
export function measureOperation(
  op: OperationDefinitionNode,
  fragments: Record<string, FragmentDefinitionNode>,
): OperationShape {
  let visits = 0;
  type Measure = { height: number; aliases: number; fields: number };
  const memo = new Map<string, Measure>();
  const onPath = new Set<string>();
  const add = (a: number, b: number): number => Math.min(COUNT_CAP, a + b);
  // Selection sets nest at most as deep as the document text (bounded by maxNesting before this).
  const measureSet = (set: SelectionSetNode): Measure => {
    visits++;
    const m: Measure = { height: 0, aliases: 0, fields: 0 };
    for (const s of set.selections) {
      let child: Measure | null;
      if (s.kind === Kind.FIELD) {
        m.fields = add(m.fields, 1);
        if (s.alias) m.aliases = add(m.aliases, 1);
        if (!s.selectionSet) continue;
        const sub = measureSet(s.selectionSet);
        child = { ...sub, height: sub.height + 1 };
      } else if (s.kind === Kind.INLINE_FRAGMENT) child = measureSet(s.selectionSet);
      else child = measureFragment(s.name.value);
      if (!child) continue;
      m.height = Math.max(m.height, child.height);
      m.aliases = add(m.aliases, child.aliases);
      m.fields = add(m.fields, child.fields);
    }
    return m;
  };
  const measureFragment = (name: string): Measure | null => {
    const known = memo.get(name);
    if (known) return known;
    const f = fragments[name];
    if (!f || onPath.has(name)) return null;
    onPath.add(name);
    const m = measureSet(f.selectionSet);
    onPath.delete(name);
    memo.set(name, m);
    return m;
  };

  const rootFields = new Set<string>();
  const rootSeen = new Set<string>();
  const collectRoot = (set: SelectionSetNode): void => {
    visits++;
    for (const s of set.selections) {
      if (s.kind === Kind.FIELD) rootFields.add(s.alias?.value ?? s.name.value);
      else if (s.kind === Kind.INLINE_FRAGMENT) collectRoot(s.selectionSet);
      else {
        const f = fragments[s.name.value];
        // The set of root keys does not depend on how often a fragment is spread: once is enough.
        if (f && !rootSeen.has(f.name.value)) {
          rootSeen.add(f.name.value);
          collectRoot(f.selectionSet);
        }
      }
    }
  };
  collectRoot(op.selectionSet);
  const m = measureSet(op.selectionSet);
  return { depth: m.height + 1, aliases: m.aliases, rootFields: rootFields.size, expandedFields: m.fields, visits };
}

/**
 * The deepest nesting of `{`, `[` and `(` in a GraphQL document's text, skipping strings, block
 * strings and comments; stops counting once past `stopAbove`. One pass, no recursion: safe on any
 * input, run before the parser.
 */
export function textNesting(source: string, stopAbove = Infinity): number {
  let depth = 0;
  let max = 0;
  for (let i = 0; i < source.length; i++) {
    const c = source.charCodeAt(i);
    if (c === 0x23 /* # */) {
      while (i < source.length && source.charCodeAt(i) !== 0x0a && source.charCodeAt(i) !== 0x0d) i++;
    } else if (c === 0x22 /* " */) {
      if (source.startsWith('"""', i)) {
        i += 3;
        while (i < source.length && !source.startsWith('"""', i)) i += source.startsWith('\\"""', i) ? 4 : 1;
        i += 2;
      } else {
        i++;
        while (i < source.length) {
          const d = source.charCodeAt(i);
          if (d === 0x5c /* \ */) i += 2;
          else if (d === 0x22 || d === 0x0a || d === 0x0d) break;
          else i++;
        }
      }
    } else if (c === 0x7b || c === 0x5b || c === 0x28 /* { [ ( */) {
      depth++;
      if (depth > max) {
        max = depth;
        if (max > stopAbove) return max;
      }
    } else if (c === 0x7d || c === 0x5d || c === 0x29 /* } ] ) */) {
      depth = Math.max(0, depth - 1);
    }
  }
  return max;
}

const exceeded = (what: string, max: number, actual: number): GraphQLError =>
  new GraphQLError(`Operation exceeds the ${what} limit (${actual} > ${max})`, {
    extensions: { code: ErrorCode.OPERATION_LIMIT_EXCEEDED, limit: what, max, actual, http: { status: 400 } },
  });

/** Refuses a document text nested deeper than `maxNesting` (before it is parsed). */
export function checkSource(source: string, limits: Required<OperationLimits>): GraphQLError | null {
  const nesting = textNesting(source, limits.maxNesting);
  return nesting > limits.maxNesting ? exceeded('nesting', limits.maxNesting, nesting) : null;
}

/** Refuses an operation over the depth / alias / root-field / expanded-field limits. */
export function checkOperation(
  document: DocumentNode,
  operation: OperationDefinitionNode,
  limits: Required<OperationLimits>,
): GraphQLError | null {
  const fragments: Record<string, FragmentDefinitionNode> = {};
  for (const d of document.definitions) if (d.kind === Kind.FRAGMENT_DEFINITION) fragments[d.name.value] = d;
  const shape = measureOperation(operation, fragments);
  if (shape.depth > limits.maxDepth) return exceeded('depth', limits.maxDepth, shape.depth);
  if (shape.aliases > limits.maxAliases) return exceeded('aliases', limits.maxAliases, shape.aliases);
  if (shape.rootFields > limits.maxRootFields) return exceeded('rootFields', limits.maxRootFields, shape.rootFields);
  if (shape.expandedFields > limits.maxExpandedFields)
    return exceeded('expandedFields', limits.maxExpandedFields, shape.expandedFields);
  return null;
}

/** No operation in the document matches `operationName` (or none was named among several). */
export const unknownOperation = (operationName: string | null | undefined): GraphQLError =>
  new GraphQLError(
    operationName
      ? `Unknown operation named "${operationName.slice(0, 100)}"`
      : 'Must provide operation name if query contains multiple operations',
    { extensions: { code: ErrorCode.GRAPHQL_VALIDATION_FAILED, http: { status: 400 } } },
  );

/**
 * Refuses, before planning, an operation name that matches no operation
 * (GRAPHQL_VALIDATION_FAILED) and operations over the depth / alias / root-field / expanded-field
 * limits (OPERATION_LIMIT_EXCEEDED). Before parsing, {@link nestingGuard} checks the nesting; the
 * token limit is graphql-js's `maxTokens` (Apollo Server's `parseOptions`).
 */
export function limitsPlugin(limits: OperationLimits = {}): ApolloServerPlugin<RouterContext> {
  const max = resolveLimits(limits);
  return {
    async requestDidStart() {
      return {
        async didResolveOperation({ operation, document, request }) {
          if (!operation) throw unknownOperation(request.operationName);
          const refused = checkOperation(document, operation, max);
          if (refused) throw refused;
        },
      };
    },
  };
}

/**
 * Express middleware on `/graphql` after `express.json`, before Apollo Server: a query text nested
 * deeper than `maxNesting` is answered 400 OPERATION_LIMIT_EXCEEDED (`limit: "nesting"`) without
 * being parsed (1,500 nested inline fragments otherwise reach the query planner's recursion).
 */
export function nestingGuard(limits: Required<OperationLimits>): RequestHandler {
  return (req, res, next) => {
    const body = req.body as { query?: unknown } | undefined;
    const query = req.method === 'GET' ? (req.query as { query?: unknown }).query : body?.query;
    const refused = typeof query === 'string' ? checkSource(query, limits) : null;
    if (!refused) {
      next();
      return;
    }
    const { http: _http, ...extensions } = refused.extensions;
    res.status(400).json({ errors: [{ message: refused.message, extensions }] });
  };
}

/**
 * Express error handler (after `express.json`, and last on the app): every error answers a
 * GraphQL-shaped JSON body, never express's HTML page with a stack trace and paths. A body over
 * the limit is 413 OPERATION_LIMIT_EXCEEDED; any other client error of the body parser (not JSON,
 * unsupported `Content-Encoding` or `charset`, aborted or mis-sized body) is its 4xx status with
 * BAD_REQUEST; anything else is a 500 INTERNAL_SERVER_ERROR with a generic message.
 */
export const bodyLimitErrorHandler: ErrorRequestHandler = (err, _req, res, next) => {
  if (res.headersSent) {
    next(err);
    return;
  }
  const e = (err ?? {}) as {
    type?: unknown;
    status?: unknown;
    statusCode?: unknown;
    limit?: unknown;
    expose?: unknown;
  };
  const status = typeof e.status === 'number' ? e.status : typeof e.statusCode === 'number' ? e.statusCode : 500;
  if (e.type === 'entity.too.large') {
    const limit = typeof e.limit === 'number' ? e.limit : null;
    res.status(413).json({
      errors: [
        {
          message: `Request body exceeds ${limit ?? 'the'} bytes`,
          extensions: { code: ErrorCode.OPERATION_LIMIT_EXCEEDED, limit: 'bodySize', max: limit },
        },
      ],
    });
    return;
  }
  if (status >= 400 && status < 500) {
    res
      .status(status)
      .json({ errors: [{ message: clientErrorMessage(e.type), extensions: { code: ErrorCode.BAD_REQUEST } }] });
    return;
  }
  res.status(500).json({
    errors: [{ message: 'Internal server error', extensions: { code: ErrorCode.INTERNAL_SERVER_ERROR } }],
  });
};

/** A fixed message per body-parser error type: nothing of the request or the server is echoed. */
function clientErrorMessage(type: unknown): string {
  switch (type) {
    case 'entity.parse.failed':
      return 'Malformed JSON body';
    case 'encoding.unsupported':
      return 'Unsupported Content-Encoding (use identity, gzip, deflate or br)';
    case 'charset.unsupported':
      return 'Unsupported charset (use utf-8)';
    case 'request.aborted':
      return 'Request body aborted';
    case 'request.size.invalid':
      return 'Request body length does not match Content-Length';
    default:
      return 'Bad request';
  }
}

const STATUS_TEXT: Record<number, string> = {
  400: 'Bad Request',
  408: 'Request Timeout',
  431: 'Request Header Fields Too Large',
};

/**
 * `clientError` listener for the router's HTTP server: requests Node refuses before they reach
 * express (headers over `maxHeaderSize`, e.g. a 20 KB Authorization header; malformed HTTP) get a
 * JSON body with a code instead of Node's empty answer: 431 OPERATION_LIMIT_EXCEEDED
 * (`limit: "headerSize"`), 408 or 400 BAD_REQUEST.
 */
export function answerClientError(err: Error & { code?: string }, socket: Duplex): void {
  if (!socket.writable || err.code === 'ECONNRESET') {
    socket.destroy();
    return;
  }
  const status = err.code === 'HPE_HEADER_OVERFLOW' ? 431 : err.code === 'ERR_HTTP_REQUEST_TIMEOUT' ? 408 : 400;
  const body = JSON.stringify({
    errors: [
      status === 431
        ? {
            message: 'Request headers too large',
            extensions: { code: ErrorCode.OPERATION_LIMIT_EXCEEDED, limit: 'headerSize' },
          }
        : { message: STATUS_TEXT[status], extensions: { code: ErrorCode.BAD_REQUEST } },
    ],
  });
  socket.end(
    `HTTP/1.1 ${status} ${STATUS_TEXT[status]}\r\nContent-Type: application/json; charset=utf-8\r\n` +
      `Content-Length: ${Buffer.byteLength(body)}\r\nConnection: close\r\n\r\n${body}`,
  );
}
