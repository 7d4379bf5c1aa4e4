// The router's composition root: every entry point builds the router here (router/src/index.ts,
// the one-process app, the tests' replicas) and passes only its configuration and connections.
import type { Redis } from 'ioredis';
import type { Db } from '@lt/db';
import { openIdentityBus, type IdentityWatch, type OpenedIdentityBus } from '@lt/identity';
import type { Logger } from '@lt/logger';
import type { PubSub } from '@lt/pubsub';
import { createIdentity, type Identity } from './auth/createIdentity';
import { anonymousAuthenticator, type Authenticator } from './auth/types';
import type { AccessTokenVerifierOptions } from './auth/verifier';
import { createRouter, type Router, type RouterOptions } from './createRouter';
import { mountDashboard, type DashboardOptions } from './dashboard';
import { addSubgraphChecks, createRouterOps, type ReadinessCheck, type RouterOps } from './ops';
import { createSubscriptionEngine, type AttachedEngine, type SubscriptionLimits } from './subscriptions';

export { createRouter, gatewaySupergraph, type Router, type RouterInternals, type RouterOptions } from './createRouter';

export interface RouterAppOptions extends Omit<
  RouterOptions,
  'plugins' | 'extendApp' | 'onHttpServer' | 'authenticator'
> {
  /** Live channels the subscription engine listens on (Redis across replicas; memory in one process). */
  pubsub: PubSub;
  /**
   * Cognito user pool whose access tokens the router accepts; memberships come from `db`.
   * Omitted: every caller is anonymous (unless `authenticator` is given).
   */
  cognito?: AccessTokenVerifierOptions;
  /** Postgres (services role): memberships for `cognito`, and a readiness check. Owned by the caller. */
  db?: Db;
  /**
   * Shared Redis: membership cache and revocations across replicas, the identity bus (unless
   * `identityBus` is given), and a readiness check. Owned by the caller. Omitted: in process.
   */
  redis?: Redis;
  /**
   * Identity events (logout, removal, role change, suspension) that drop cached memberships and
   * close subscription sockets. Give it when subgraphs in this process publish on the same bus;
   * omitted, the router opens its own (on `redis`, else in memory) and closes it on `stop()`.
   */
  identityBus?: IdentityWatch;
  /** Verifies callers instead of the Cognito path (tests: short-lived or failing checks). */
  authenticator?: Authenticator;
  /** Lifetime of the in-process membership cache entries, ms (default 2_000). */
  membershipLocalTtlMs?: number;
  /** Subscription limits (subscriptions/limits.ts defaults). */
  subscriptionLimits?: SubscriptionLimits;
  /** Logger of the subscription engine. Default: `log` with `component: 'subscriptions'`. */
  subscriptionLog?: Logger;
  /** Clock of the subscription engine, ms since epoch (token expiry tests). */
  now?: () => number;
  /** The operator dashboard (/dashboard); `false`: not mounted. Default: the offline basemap. */
  dashboard?: DashboardOptions | false;
}

export interface RouterApp {
  router: Router;
  /** /healthz, /readyz, /metrics: the metrics and the readiness checks (one per dependency and subgraph). */
  ops: RouterOps;
  /** With `cognito`: the identity path (authenticator, verifier, membership cache and its stats). */
  identity?: Identity;
  /** The identity events this router watches. */
  identityBus: IdentityWatch;
  /** The subscription engine, once the router has started. */
  subscriptions: () => AttachedEngine | undefined;
  /** Starts listening; resolves with the port. */
  start(port: number, host?: string): Promise<number>;
  /** Stops the router (drains clients, closes sockets), then its identity path and the bus it opened. */
  stop(): Promise<void>;
}

/**
 * Builds the router as it runs: identity (token verifier, membership cache, identity bus), the
 * gateway, /healthz /readyz /metrics with their checks, the dashboard and the subscription engine on
 * the same HTTP server. The JWKS is loaded before it returns; if the identity provider is down,
 * requests answer SERVICE_UNAVAILABLE until a download succeeds.
 */
export async function createRouterApp(o: RouterAppOptions): Promise<RouterApp> {
  const {
    pubsub,
    cognito,
    db,
    redis,
    identityBus,
    authenticator,
    membershipLocalTtlMs,
    subscriptionLimits,
    subscriptionLog,
    now,
    dashboard,
    ...routerOptions
  } = o;
  if (cognito && !db) throw new Error('createRouterApp: cognito needs db (memberships are resolved in Postgres)');
  const log = o.log;
  const ownedBus: OpenedIdentityBus | undefined = identityBus
    ? undefined
    : await openIdentityBus({
        ...(redis ? { redis } : {}),
        onError: (err) => log.warn('identity event', { err }),
      });
  const bus = identityBus ?? ownedBus!;

  let identity: Identity | undefined;
  try {
    const checks: Record<string, ReadinessCheck> = {};
    if (db) checks['postgres'] = async () => void (await db.$queryRaw`SELECT 1`);
    if (redis) checks['redis'] = async () => void (await redis.ping());
    const ops = createRouterOps(checks);
    identity =
      cognito && db
        ? createIdentity({
            db,
            cognito,
            watch: bus,
            ...(redis ? { redis } : {}),
            ...(membershipLocalTtlMs !== undefined ? { localTtlMs: membershipLocalTtlMs } : {}),
            onFailure: (reason) => ops.metrics.authFailures.inc(reason),
            log: log.child({ component: 'identity' }),
          })
        : undefined;
    if (identity) {
      await identity.verifier
        .hydrate()
        .catch((err: unknown) =>
          log.warn('JWKS not loaded at start; retried on demand', { err: (err as Error).message }),
        );
      ops.watchIdentity(identity);
      const verifier = identity.verifier;
      checks['cognito'] = () => verifier.probe();
    }
    addSubgraphChecks(checks, o.supergraphSdl, o.subgraphUrls ?? {});

    const callers = authenticator ?? identity?.authenticator ?? anonymousAuthenticator;
    let subscriptions: AttachedEngine | undefined;
    const router = createRouter({
      ...routerOptions,
      authenticator: callers,
      plugins: [ops.plugin],
      extendApp: (app) => {
        ops.mount(app);
        if (dashboard !== false) mountDashboard(app, dashboard ?? {});
      },
      onHttpServer: async (server, internals) => {
        subscriptions = await createSubscriptionEngine({
          authenticator: callers,
          pubsub,
          log: subscriptionLog ?? log.child({ component: 'subscriptions' }),
          identityWatch: bus,
          ...(subscriptionLimits ? { limits: subscriptionLimits } : {}),
          ...(now ? { now } : {}),
        })(server, internals);
        ops.watchSubscriptions(subscriptions);
        return subscriptions;
      },
    });
    const built = identity;
    return {
      router,
      ops,
      ...(built ? { identity: built } : {}),
      identityBus: bus,
      subscriptions: () => subscriptions,
      start: (port, host) => router.start(port, host),
      async stop() {
        await router.stop();
        await built?.stop();
        await ownedBus?.close();
      },
    };
  } catch (err) {
    await identity?.stop();
    await ownedBus?.close();
    throw err;
  }
}
