import { createServer, type Server } from 'node:http';
import { ApolloServer, type ApolloServerPlugin } from '@apollo/server';
import { ApolloServerPluginDrainHttpServer } from '@apollo/server/plugin/drainHttpServer';
import {
  ApolloServerPluginInlineTraceDisabled,
  ApolloServerPluginLandingPageDisabled,
} from '@apollo/server/plugin/disabled';
import { expressMiddleware } from '@as-integrations/express5';
import { buildSubgraphSchema } from '@apollo/subgraph';
import type { GraphQLResolverMap } from '@apollo/subgraph/dist/schema-helper';
import express from 'express';
import { parse } from 'graphql';
import { CONTEXT_HEADER, ContextVerificationError, REQUEST_ID_HEADER, verifyContext } from '@lt/context';
import { isInvalidInputDatabaseError, isTransientDatabaseError } from '@lt/db';
import { ErrorCode, maskError } from '@lt/errors';
import type { Logger } from '@lt/logger';
import { isRedisUnavailableError } from '@lt/pubsub';
import type { SubgraphContext } from './context';
import { listen, stopServer } from './http';
import { guardArguments } from './inputGuard';
import { logUnexpectedErrors } from './logErrors';
import { processMetrics } from './processMetrics';
import { probe } from './probe';

/** Dependency failures answered SERVICE_UNAVAILABLE: Postgres unavailable or overloaded, Redis unreachable. */
const isTransient = (err: unknown): boolean => isTransientDatabaseError(err) || isRedisUnavailableError(err);

export interface SubgraphServerOptions<TExtra extends object> {
  /** Subgraph name, for logs. */
  name: string;
  /** The subgraph's SDL (schema.graphql). */
  typeDefs: string;
  resolvers: GraphQLResolverMap<SubgraphContext & TExtra>;
  /** Shared with the router; requests without a valid signature are refused with 401. */
  contextSecret: string;
  log: Logger;
  /** Adds subgraph-specific dependencies (data access, clients) to each request's context. */
  extraContext?: (base: SubgraphContext) => TExtra | Promise<TExtra>;
  plugins?: ApolloServerPlugin<SubgraphContext & TExtra>[];
  /** Max JSON body size. Default '1mb' (a 1,000-point batch is ~200 kB). */
  bodyLimit?: string;
  /**
   * Named readiness probes served on `GET /readyz` (200 when all pass, else 503 naming what
   * fails; each bounded by 2 s). `/healthz` (liveness) answers as soon as the server listens.
   */
  readiness?: Record<string, () => Promise<void>>;
}

export interface SubgraphServer {
  httpServer: Server;
  /** Starts listening; resolves with the bound port. */
  start(port: number, host?: string): Promise<number>;
  /** Drains requests and stops. */
  stop(): Promise<void>;
}

/**
 * Builds a subgraph server. Every request must carry the router-signed context (`x-router-context`):
 * reaching a subgraph's `/graphql` directly, without the router, gets a 401 and nothing else.
 * `/healthz` and `/metrics` (prom-client's process metrics, no tenant data) answer anyone.
 */
export function createSubgraphServer<TExtra extends object = object>(
  options: SubgraphServerOptions<TExtra>,
): SubgraphServer {
  const app = express();
  const httpServer = createServer(app);
  const log = options.log;
  type Ctx = SubgraphContext & TExtra;
  const apollo = new ApolloServer<Ctx>({
    // Every argument is checked once here (NUL characters, invalid scalar values) before any resolver runs.
    schema: guardArguments(
      buildSubgraphSchema({ typeDefs: parse(options.typeDefs), resolvers: options.resolvers as never }),
    ),
    plugins: [
      ApolloServerPluginDrainHttpServer({ httpServer }),
      ApolloServerPluginLandingPageDisabled(),
      ApolloServerPluginInlineTraceDisabled(),
      logUnexpectedErrors<Ctx>(log, isTransient, isInvalidInputDatabaseError),
      ...(options.plugins ?? []),
    ],
    includeStacktraceInErrorResponses: false,
    // Unexpected errors are logged with the request id by logUnexpectedErrors, then masked here.
    // Database overload or outage (pool wait, timeouts, conflicts) answers SERVICE_UNAVAILABLE; a
    // value Postgres refuses (NUL character, date out of range) that validation missed, BAD_USER_INPUT.
    formatError: (formatted, original) =>
      maskError(formatted, original, { transient: isTransient, badInput: isInvalidInputDatabaseError }),
  });
  let started = false;

  return {
    httpServer,
    async start(port, host) {
      if (!started) {
        await apollo.start();
        started = true;
        // The signature check runs before Apollo sees the body: no parsing, no planning, no data.
        app.use('/graphql', (req, res, next) => {
          try {
            const caller = verifyContext(req.header(CONTEXT_HEADER), {
              secret: options.contextSecret,
              requestId: req.header(REQUEST_ID_HEADER) ?? null,
            });
            res.locals['caller'] = caller;
            next();
          } catch (err) {
            const reason = err instanceof ContextVerificationError ? err.reason : 'error';
            log.warn('request without a valid router signature refused', { reason, remote: req.socket.remoteAddress });
            res.status(401).json({
              errors: [
                { message: 'Requests must come through the router', extensions: { code: ErrorCode.UNAUTHENTICATED } },
              ],
            });
          }
        });
        app.use(
          '/graphql',
          express.json({ limit: options.bodyLimit ?? '1mb' }),
          expressMiddleware(apollo, {
            context: async ({ res }) => {
              const caller = res.locals['caller'] as SubgraphContext['caller'];
              const base: SubgraphContext = { caller, log: log.child({ requestId: caller.requestId }) };
              const extra = options.extraContext ? await options.extraContext(base) : ({} as TExtra);
              return { ...base, ...extra };
            },
          }),
        );
        app.get('/healthz', (_req, res) => {
          res.json({ status: 'ok', subgraph: options.name });
        });
        app.get('/readyz', async (_req, res) => {
          const entries = Object.entries(options.readiness ?? {});
          const results = await Promise.all(entries.map(([, check]) => probe(check, 2_000)));
          const checks = Object.fromEntries(entries.map(([name], i) => [name, results[i]!]));
          const ready = results.every((r) => r === 'ok');
          res.status(ready ? 200 : 503).json({ status: ready ? 'ready' : 'not_ready', subgraph: options.name, checks });
        });
        // The process's own metrics (event-loop lag, GC, heap, handles): one process per service
        // when deployed, so each subgraph is scraped on its own port.
        app.get('/metrics', async (_req, res) => {
          const registry = processMetrics();
          const text = await registry.metrics();
          res.type(registry.contentType).send(text);
        });
      }
      return listen(httpServer, port, host);
    },
    async stop() {
      if (started) await apollo.stop();
      await stopServer(httpServer);
    },
  };
}
