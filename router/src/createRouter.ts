import { randomUUID } from 'node:crypto';
import { createServer, type Server } from 'node:http';
import { ApolloGateway } from '@apollo/gateway';
import { ApolloServer, type ApolloServerPlugin } from '@apollo/server';
import { ApolloServerPluginDrainHttpServer } from '@apollo/server/plugin/drainHttpServer';
import { ApolloServerPluginLandingPageLocalDefault } from '@apollo/server/plugin/landingPage/default';
import { ApolloServerPluginLandingPageDisabled } from '@apollo/server/plugin/disabled';
import { expressMiddleware } from '@as-integrations/express5';
import express, { type Express } from 'express';
import type { DocumentNode, FormattedExecutionResult, GraphQLSchema } from 'graphql';
import type { Caller } from '@lt/context';
import { GraphQLError } from 'graphql';
import { ErrorCode, isErrorCode, maskError } from '@lt/errors';
import type { Logger } from '@lt/logger';
import { listen, logUnexpectedErrors, stopServer } from '@lt/server';
import type { Authenticator } from './auth/types';
import { SignedContextDataSource, withVariableField, type RouterContext } from './gateway/dataSource';
import { createContextSigner } from './gateway/contextSigner';
import { createSubgraphFetcher } from './gateway/httpFetcher';
import { unavailable } from './auth/cognitoAuthenticator';
import { isTransientDependencyError } from './transient';
import { mergingFetcher } from './gateway/merge';
import {
  answerClientError,
  authorizationPlugin,
  bodyLimitErrorHandler,
  limitsPlugin,
  nestingGuard,
  resolveLimits,
  type OperationLimits,
} from './plugins';

export interface RouterOptions {
  /** Composed supergraph SDL (router/supergraph.graphql). */
  supergraphSdl: string;
  /** Overrides of the routing URLs in the supergraph, by subgraph name (tests use port 0). */
  subgraphUrls?: Record<string, string>;
  /** Signs the caller context forwarded to subgraphs. */
  contextSecret: string;
  authenticator: Authenticator;
  log: Logger;
  /** Production: no introspection, no Sandbox landing page. Default false. */
  production?: boolean;
  /** Deadline of each subgraph call, ms. Default 10_000. */
  subgraphTimeoutMs?: number;
  /** Max HTTP body. Default '1mb'. */
  bodyLimit?: string;
  /** Token / nesting / depth / alias / root-field limits (plugins/limits.ts defaults). Always enforced. */
  limits?: OperationLimits;
  /** Extra Apollo plugins (metrics...). Authorization (@authenticated/@requiresScopes) and limits are built in. */
  plugins?: ApolloServerPlugin<RouterContext>[];
  /** Called with the express app before /graphql is mounted (ops endpoints, dashboard). */
  extendApp?: (app: Express) => void;
  /** Called with the HTTP server after start (the WebSocket subscription engine attaches here). */
  onHttpServer?: (
    server: Server,
    internals: RouterInternals,
  ) => Promise<{ stop(): Promise<void> }> | { stop(): Promise<void> };
}

/**
 * What the router lends to engines attached through `onHttpServer` (the subscription engine):
 * the supergraph's API schema and an executor that runs an operation through the same pipeline
 * as HTTP (plugins, query plans, signed context) as a given caller.
 */
export interface RouterInternals {
  schema: GraphQLSchema;
  /** The operation limits HTTP enforces, defaults filled in (subscriptions enforce the same). */
  limits: Required<OperationLimits>;
  execute(
    caller: Caller,
    document: DocumentNode,
    variables?: Record<string, unknown>,
  ): Promise<FormattedExecutionResult>;
}

export interface Router {
  httpServer: Server;
  app: Express;
  start(port: number, host?: string): Promise<number>;
  stop(): Promise<void>;
}

/** Best-effort client address for rate limits: the socket peer, never X-Forwarded-For. */
function clientAddress(req: express.Request): string | null {
  return req.socket.remoteAddress ?? null;
}

/**
 * @apollo/gateway refuses supergraphs whose `@link`s it does not support `for: SECURITY`
 * (authenticated, requiresScopes: Apollo Router features). The router enforces those itself
 * (auth/authorization plugin) from the full SDL, so the gateway gets the links without the
 * `for: SECURITY` purpose, which makes them ignorable metadata for query planning.
 */
export function gatewaySupergraph(supergraphSdl: string): string {
  return supergraphSdl.replace(/,\s*for:\s*SECURITY\s*\)/g, ')');
}

/**
 * Builds the router: verifies the caller once, then runs gateway query plans over the subgraphs,
 * forwarding only the router-signed context.
 */
export function createRouter(options: RouterOptions): Router {
  const app = express();
  app.disable('x-powered-by');
  const httpServer = createServer(app);
  // Requests Node refuses before express (headers over 16 KB, malformed HTTP): a JSON answer.
  httpServer.on('clientError', answerClientError);
  const log = options.log;
  const limits = resolveLimits(options.limits);
  // One pool of kept-alive sockets to the subgraphs for the whole router; every call has a deadline.
  // Identical in-flight queries of one caller share a call (gateway/merge.ts).
  const fetcher = mergingFetcher(createSubgraphFetcher({ timeoutMs: options.subgraphTimeoutMs ?? 10_000 }));
  // Each caller's context is signed once and reused while it has time left (gateway/contextSigner.ts).
  const signer = createContextSigner({ secret: options.contextSecret });

  // @apollo/gateway otherwise starts an OpenTelemetry exporter that reports usage to Apollo and
  // probes cloud metadata endpoints (AWS/GCP/Azure, e.g. 169.254.169.254) to describe the host.
  // A tenant-isolated platform does not phone home; its env switch is the only off button.
  process.env['APOLLO_TELEMETRY_DISABLED'] = 'true';
  const gateway = new ApolloGateway({
    supergraphSdl: gatewaySupergraph(options.supergraphSdl),
    buildService: ({ name, url }) =>
      new SignedContextDataSource(options.subgraphUrls?.[name] ?? url ?? '', signer, fetcher),
  });

  const apollo = new ApolloServer<RouterContext>({
    gateway,
    introspection: !options.production,
    csrfPrevention: true,
    includeStacktraceInErrorResponses: false,
    // Bounded before any deeper work: the parser stops past maxTokens (GRAPHQL_PARSE_FAILED).
    parseOptions: { maxTokens: limits.maxTokens },
    // No automatic persisted queries: clients send the query text. Any persistedQuery extension
    // answers PERSISTED_QUERY_NOT_SUPPORTED (Apollo clients then resend with the text).
    persistedQueries: false,
    plugins: [
      ApolloServerPluginDrainHttpServer({ httpServer }),
      options.production
        ? ApolloServerPluginLandingPageDisabled()
        : ApolloServerPluginLandingPageLocalDefault({ embed: true }),
      logUnexpectedErrors<RouterContext>(log, isTransientDependencyError),
      // Security is not opt-in: every router enforces the limits and the SDL's access rules.
      limitsPlugin(limits),
      authorizationPlugin(options.supergraphSdl),
      ...(options.plugins ?? []),
    ],
    // Unexpected errors are logged with the request id by logUnexpectedErrors, then masked here.
    formatError: (formatted, original) =>
      maskError(withVariableField(formatted), original, { transient: isTransientDependencyError }),
  });

  /**
   * The caller's identity for the context function. Refusals (UNAUTHENTICATED…) pass through;
   * a dependency down (Postgres, Redis, the JWKS) is SERVICE_UNAVAILABLE (HTTP 200, `Retry-After`) and logged;
   * anything else is logged and masked — never an unlogged 500.
   */
  const authenticate = async (authorization: string | undefined, requestId: string) => {
    try {
      return await options.authenticator.authenticate(authorization);
    } catch (err) {
      const code = err instanceof GraphQLError ? err.extensions['code'] : undefined;
      if (isErrorCode(code) && code !== ErrorCode.INTERNAL_SERVER_ERROR) throw err;
      const summary = {
        name: (err as Error)?.name,
        code: (err as { code?: unknown })?.code,
        message: (err as Error)?.message,
      };
      if (isTransientDependencyError(err)) {
        log.warn('identity check unavailable, answered SERVICE_UNAVAILABLE', { requestId, err: summary });
        throw unavailable();
      }
      log.error('identity check failed', { requestId, err });
      throw err;
    }
  };

  let started = false;
  let attached: { stop(): Promise<void> } | undefined;

  return {
    httpServer,
    app,
    async start(port, host) {
      if (!started) {
        await apollo.start();
        started = true;
        options.extendApp?.(app);
        app.use(
          '/graphql',
          express.json({ limit: options.bodyLimit ?? '1mb' }),
          nestingGuard(limits),
          expressMiddleware(apollo, {
            context: async ({ req }) => {
              const requestId = randomUUID();
              const auth = await authenticate(req.header('authorization'), requestId);
              const caller: Caller = {
                membership: auth?.membership ?? null,
                requestId,
                tokenId: auth?.tokenId ?? null,
                tokenExpiresAt: auth?.expiresAt ?? null,
                clientAddress: clientAddress(req),
              };
              return { caller };
            },
          }),
        );
        // A body over the limit (or not JSON) gets a GraphQL-shaped error, not express's HTML page.
        app.use('/graphql', bodyLimitErrorHandler);
        // Last on the app: no route answers express's HTML error page (stack trace, paths).
        app.use(bodyLimitErrorHandler);
        if (options.onHttpServer) {
          const internals: RouterInternals = {
            schema: gateway.schema!,
            limits,
            async execute(caller, document, variables) {
              const res = await apollo.executeOperation<Record<string, unknown>>(
                { query: document, ...(variables ? { variables } : {}) },
                { contextValue: { caller } },
              );
              if (res.body.kind !== 'single') throw new Error('incremental delivery is not supported here');
              return res.body.singleResult;
            },
          };
          attached = await options.onHttpServer(httpServer, internals);
        }
      }
      return listen(httpServer, port, host);
    },
    async stop() {
      await attached?.stop();
      if (started) await apollo.stop();
      await stopServer(httpServer);
      fetcher.close();
    },
  };
}
