import type { IdentityWatch } from '@lt/identity';
import type { Logger } from '@lt/logger';
import type { PubSub } from '@lt/pubsub';
import { createRouter, type Router, type RouterOptions } from './createRouter';
import { mountDashboard, type DashboardOptions } from './dashboard';
import { addSubgraphChecks, type ReadinessCheck, type RouterOps } from './ops';
import { createSubscriptionEngine, type AttachedEngine, type SubscriptionLimits } from './subscriptions';

export interface AssembleRouterOptions extends Omit<RouterOptions, 'plugins' | 'extendApp' | 'onHttpServer'> {
  /** Live channels the subscription engine listens on (Redis across replicas; memory in one process). */
  pubsub: PubSub;
  /** Identity events that close subscription sockets (logout, removal, role change, suspension). */
  identityWatch?: IdentityWatch;
  /** Subscription limits (subscriptions/limits.ts defaults). */
  subscriptionLimits?: SubscriptionLimits;
  /** Logger of the subscription engine. Default: `log` with `component: 'subscriptions'`. */
  subscriptionLog?: Logger;
  /** Clock of the subscription engine, ms since epoch (token expiry tests). */
  now?: () => number;
  /**
   * /healthz, /readyz, /metrics and the metrics plugin; the readiness checks it was created with
   * get one check per subgraph.
   */
  ops?: { ops: RouterOps; checks: Record<string, ReadinessCheck> };
  /** The operator dashboard on `/`; not mounted when absent. */
  dashboard?: DashboardOptions;
}

export interface AssembledRouter {
  router: Router;
  /** The subscription engine, once the router has started. */
  subscriptions: () => AttachedEngine | undefined;
}

/**
 * The router as every entry point runs it (router/src/index.ts, the one-process stack, test
 * replicas): the gateway, its ops endpoints and metrics, the dashboard and the subscription engine
 * on the same HTTP server. Identity (the authenticator and its watch) is built by the caller.
 */
export function assembleRouter(o: AssembleRouterOptions): AssembledRouter {
  const { pubsub, identityWatch, subscriptionLimits, subscriptionLog, now, ops, dashboard, ...routerOptions } = o;
  let subscriptions: AttachedEngine | undefined;
  if (ops) addSubgraphChecks(ops.checks, o.supergraphSdl, o.subgraphUrls ?? {});
  const router = createRouter({
    ...routerOptions,
    ...(ops ? { plugins: [ops.ops.plugin] } : {}),
    extendApp: (app) => {
      ops?.ops.mount(app);
      if (dashboard) mountDashboard(app, dashboard);
    },
    onHttpServer: async (server, internals) => {
      subscriptions = await createSubscriptionEngine({
        authenticator: o.authenticator,
        pubsub,
        log: subscriptionLog ?? o.log.child({ component: 'subscriptions' }),
        ...(identityWatch ? { identityWatch } : {}),
        ...(subscriptionLimits ? { limits: subscriptionLimits } : {}),
        ...(now ? { now } : {}),
      })(server, internals);
      ops?.ops.watchSubscriptions(subscriptions);
      return subscriptions;
    },
  });
  return { router, subscriptions: () => subscriptions };
}
